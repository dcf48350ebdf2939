;; embedkit's WebAssembly kernels: JSON float parsing, base64 and the finiteness check (the search inner
;; loops are in search.wat, a second module on this one's memory). Compiled to kernels-bytes.ts by
;; scripts/build-wasm.mjs (wabt from npm). Every kernel has a JavaScript twin that gives bit-identical
;; results; the WebAssembly is only ever a faster way to the same numbers.
;;
;; The memory is owned by the module and laid out by the caller (src/wasm/kernels.ts), which writes these
;; tables once after instantiation: the powers of ten 1e0..1e22 (f64) at byte 0, 10^0..10^16 (i64) at
;; byte 192, at byte 336, for each n in 0..16, the 16 swizzle indices that move the first n bytes of
;; a vector to its end (zeros before them), and at byte 640, for each n in 0..16, a mask of 16 bytes
;; whose first n are all ones.
(module
  (memory (export "memory") 1)

  ;; ---- JSON float arrays ------------------------------------------------------------------------

  ;; How many slow numbers the last parse_array found.
  (global $slow_count (export "slow_count") (mut i32) (i32.const 0))
  ;; The byte after the `]` the last parse_array found, or 0 when it found none before its $end.
  (global $array_end (export "array_end") (mut i32) (i32.const 0))
  ;; How many elements parse_array has read the general way, ever (a test's window on which path ran).
  (global $general_count (export "general_count") (mut i32) (i32.const 0))

  ;; The value of the digits at $p..$p+$run-1 ($run at most 16) from $bytes, those 16 bytes less '0':
  ;; the run is moved to the end of the vector (zeros before it), then summed as pairs, fours and
  ;; eights, each a dot product with powers of ten; exact for any 16 digits.
  (func $digits_value (param $bytes v128) (param $run i32) (result i64)
    (local $pairs v128) (local $fours v128) (local $eights v128)
    (local.set $bytes
      (i8x16.swizzle (local.get $bytes) (v128.load offset=336 (i32.shl (local.get $run) (i32.const 4)))))
    (local.set $pairs
      (i16x8.narrow_i32x4_s
        (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $bytes)) (v128.const i16x8 10 1 10 1 10 1 10 1))
        (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $bytes)) (v128.const i16x8 10 1 10 1 10 1 10 1))))
    (local.set $fours (i32x4.dot_i16x8_s (local.get $pairs) (v128.const i16x8 100 1 100 1 100 1 100 1)))
    (local.set $eights
      (i32x4.dot_i16x8_s (i16x8.narrow_i32x4_s (local.get $fours) (local.get $fours))
        (v128.const i16x8 10000 1 10000 1 10000 1 10000 1)))
    (i64.add
      (i64.mul (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $eights))) (i64.const 100000000))
      (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $eights)))))

  ;; How many of the 16 bytes (less '0') in $bytes are digits before the first that is not (16 if all
  ;; are): a byte of 0..9 plus 118 stays below 128, any other reaches 128 or more (saturating).
  (func $digit_run (param $bytes v128) (result i32)
    (i32.ctz
      (i32.or (i8x16.bitmask (i8x16.add_sat_u (local.get $bytes) (i8x16.splat (i32.const 118)))) (i32.const 0x10000))))

  ;; Parses the JSON number at $p and stores its float32 at $out; returns the byte after it, or 0 when it
  ;; is malformed. A number whose float32 this cannot prove, or that may be beyond float32 (for the
  ;; caller to quote), is stored as 0 and listed at $slow as (value $index, first byte, end byte) to read
  ;; exactly.
  ;;
  ;; Proof: with at most 2^53 as digits and a decimal exponent within +-22, one correctly rounded f64
  ;; operation on exact operands gives the double JSON.parse reads; f32.demote then rounds it as
  ;; Math.fround does. With up to 19 digits, that double is within 2^-51 (relative) of the approximation
  ;; computed the same way; when both ends of that margin demote to one float32, so does it.
  (func $parse_number (param $p i32) (param $out i32) (param $index i32) (param $slow i32) (result i32)
    (local $c i32) (local $negative i32) (local $mantissa i64) (local $scale i32) (local $digits i32)
    (local $start i32) (local $number i32) (local $run i32) (local $exponent i32) (local $exponent_negative i32)
    (local $value f64) (local $margin f64) (local $stored f32) (local $bytes v128)
    (local.set $number (local.get $p))
    (local.set $negative (i32.eq (i32.load8_u (local.get $p)) (i32.const 45)))
    (local.set $p (i32.add (local.get $p) (local.get $negative)))
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 48))
      (then
        ;; A leading zero: a digit after it fails at the caller's delimiter check.
        (local.set $p (i32.add (local.get $p) (i32.const 1))))
      (else
        (if (i32.gt_u (i32.sub (local.get $c) (i32.const 49)) (i32.const 8)) (then (return (i32.const 0))))
        (local.set $start (local.get $p))
        (block $integer_done
          (loop $integer
            (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
            (br_if $integer_done (i32.gt_u (local.get $c) (i32.const 9)))
            (local.set $mantissa
              (i64.add (i64.mul (local.get $mantissa) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $integer)))
        (local.set $digits (i32.sub (local.get $p) (local.get $start)))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 46))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $start (local.get $p))
        (local.set $bytes (i8x16.sub (v128.load (local.get $p)) (i8x16.splat (i32.const 48))))
        (local.set $run (call $digit_run (local.get $bytes)))
        (if (i32.eqz (local.get $run)) (then (return (i32.const 0))))
        (local.set $mantissa
          (i64.add
            (i64.mul (local.get $mantissa) (i64.load offset=192 (i32.shl (local.get $run) (i32.const 3))))
            (call $digits_value (local.get $bytes) (local.get $run))))
        (local.set $p (i32.add (local.get $p) (local.get $run)))
        ;; More than 16 digits (17-digit doubles): the rest one by one.
        (if (i32.eq (local.get $run) (i32.const 16))
          (then
            (block $fraction_done
              (loop $fraction
                (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
                (br_if $fraction_done (i32.gt_u (local.get $c) (i32.const 9)))
                (local.set $mantissa
                  (i64.add (i64.mul (local.get $mantissa) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $fraction)))))
        (local.set $scale (i32.sub (local.get $start) (local.get $p)))
        (local.set $digits (i32.add (local.get $digits) (i32.sub (local.get $p) (local.get $start))))))
    (if (i32.eq (i32.or (i32.load8_u (local.get $p)) (i32.const 32)) (i32.const 101))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $exponent_negative (i32.eq (local.get $c) (i32.const 45)))
        (if (i32.or (local.get $exponent_negative) (i32.eq (local.get $c) (i32.const 43)))
          (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        (local.set $start (local.get $p))
        (block $exponent_done
          (loop $exponent_digits
            (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
            (br_if $exponent_done (i32.gt_u (local.get $c) (i32.const 9)))
            ;; Capped: an exponent this large is the slow path's either way.
            (if (i32.lt_u (local.get $exponent) (i32.const 100000))
              (then
                (local.set $exponent (i32.add (i32.mul (local.get $exponent) (i32.const 10)) (local.get $c)))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $exponent_digits)))
        (if (i32.eq (local.get $p) (local.get $start)) (then (return (i32.const 0))))
        (local.set $scale
          (i32.add
            (local.get $scale)
            (select
              (i32.sub (i32.const 0) (local.get $exponent))
              (local.get $exponent)
              (local.get $exponent_negative))))))
    (block $stored_value
      ;; First: past 19 digits the i64 mantissa has wrapped (it may even read 0). A scale up to 19 only:
      ;; below 2^64 x 10^19, no number is beyond float32, so every one that is (for the caller to quote as
      ;; sent) is listed here.
      (if (i32.or
            (i32.gt_u (local.get $digits) (i32.const 19))
            (i32.gt_u (i32.add (local.get $scale) (i32.const 22)) (i32.const 41)))
        (then
          (call $note_slow (local.get $slow) (local.get $index) (local.get $number) (local.get $p))
          (local.set $stored (f32.const 0))
          (br $stored_value)))
      (if (i64.eqz (local.get $mantissa))
        (then
          (local.set $stored (select (f32.const -0) (f32.const 0) (local.get $negative)))
          (br $stored_value)))
      (local.set $value (f64.convert_i64_u (local.get $mantissa)))
      (if (i32.lt_s (local.get $scale) (i32.const 0))
        (then
          (local.set $value
            (f64.div (local.get $value)
              (f64.load (i32.shl (i32.sub (i32.const 0) (local.get $scale)) (i32.const 3))))))
        (else
          (local.set $value (f64.mul (local.get $value) (f64.load (i32.shl (local.get $scale) (i32.const 3)))))))
      (if (local.get $negative) (then (local.set $value (f64.neg (local.get $value)))))
      (local.set $stored (f32.demote_f64 (local.get $value)))
      (if (i64.gt_u (local.get $mantissa) (i64.const 9007199254740992))
        (then
          (local.set $margin (f64.mul (f64.abs (local.get $value)) (f64.const 0x1p-50)))
          (if (f32.ne
                (f32.demote_f64 (f64.sub (local.get $value) (local.get $margin)))
                (f32.demote_f64 (f64.add (local.get $value) (local.get $margin))))
            (then
              (call $note_slow (local.get $slow) (local.get $index) (local.get $number) (local.get $p))
              (local.set $stored (f32.const 0))
              (br $stored_value))))))
    (f32.store (local.get $out) (local.get $stored))
    (local.get $p))

  ;; The first byte at or after $p that is not JSON whitespace (space, tab, line feed, carriage return, and
  ;; nothing else), 16 bytes at a time. The caller knows a byte that is not whitespace lies ahead.
  (func $skip_space (param $p i32) (result i32)
    (local $bytes v128) (local $run i32)
    (loop $more
      (local.set $bytes (v128.load (local.get $p)))
      (local.set $run
        (i32.ctz
          (i32.or
            (i32.xor
              (i8x16.bitmask
                (v128.or
                  (v128.or (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 32)))
                    (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 10))))
                  (v128.or (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 13)))
                    (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 9))))))
              (i32.const 0xffff))
            (i32.const 0x10000))))
      (local.set $p (i32.add (local.get $p) (local.get $run)))
      (br_if $more (i32.eq (local.get $run) (i32.const 16))))
    (local.get $p))

  ;; Parses the JSON number array from its `[` at $start, which ends at the first `]` before $end (the
  ;; end of the bytes the caller laid out, 64 of which may be read past it), into at most $limit float32
  ;; values at $out; returns how many, or 0 when the bytes are anything else (a malformed number, another
  ;; element, more than $limit values, no value). $array_end is the byte after that `]`, or 0 when none
  ;; lies before $end (the caller then lays out more of the body). $index is this array's first value
  ;; index. It may write scratch into the six slots after $out's $limit (the caller leaves room).
  ;;
  ;; Two passes, so that no number waits for the one before it: first every `,` is found, and the `]`,
  ;; 64 bytes at a time (their positions kept in $out, each read before its slot is written), then each
  ;; element is read between its separators. The common form is read by $pairs, two or four neighbours at
  ;; a time: -0.d…d with 1 to 15 digits filling the element exactly (an embedding coordinate), whose digits
  ;; are exact and whose value is one division by an exact power of ten. Its length comes from the
  ;; separators, so checking it is one test that every byte of the run is a digit; the neighbours' tests
  ;; share one bitmask, and each pair's last steps one f64x2 division and one store. In an array whose
  ;; first element follows whitespace (one pretty-printed, as the Gemini API writes them unless told not
  ;; to), the whitespace before each element is skipped first. Anything else goes through $parse_between,
  ;; one element at a time, and $pairs takes over again after it.
  (func $parse_array (export "parse_array") (param $start i32) (param $end i32) (param $out i32) (param $limit i32)
    (param $index i32) (param $slow i32) (result i32)
    (local $p i32) (local $close i32) (local $mask i64) (local $count i32) (local $element i32)
    (local $from i32) (local $to i32) (local $at i32) (local $hits i32) (local $slot i32) (local $indented i32)
    (local $shut i64) (local $bounds i64) (local $commas v128) (local $brackets v128) (local $b0 v128)
    (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (global.set $slow_count (i32.const 0))
    (global.set $array_end (i32.const 0))
    (if (i32.ne (i32.load8_u (local.get $start)) (i32.const 91)) (then (return (i32.const 0))))
    ;; First pass: the position of every `,` up to the first `]`, then of that `]`. The commas of 64 bytes
    ;; make one 64-bit mask; the `]` (one an array) is looked for with one test of the four compares, its
    ;; mask made only when that finds one. (Against 32 bytes a time with both masks always made: 0.82x
    ;; the first pass's time on Node 20, 0.84x on Node 24.)
    (local.set $commas (i8x16.splat (i32.const 44)))
    (local.set $brackets (i8x16.splat (i32.const 93)))
    (local.set $p (i32.add (local.get $start) (i32.const 1)))
    (block $found
      (loop $blocks
        (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
        (local.set $b0 (v128.load (local.get $p)))
        (local.set $b1 (v128.load offset=16 (local.get $p)))
        (local.set $b2 (v128.load offset=32 (local.get $p)))
        (local.set $b3 (v128.load offset=48 (local.get $p)))
        (local.set $mask
          (i64.or
            (i64.extend_i32_u
              (i32.or
                (i8x16.bitmask (i8x16.eq (local.get $b0) (local.get $commas)))
                (i32.shl (i8x16.bitmask (i8x16.eq (local.get $b1) (local.get $commas))) (i32.const 16))))
            (i64.shl
              (i64.extend_i32_u
                (i32.or
                  (i8x16.bitmask (i8x16.eq (local.get $b2) (local.get $commas)))
                  (i32.shl (i8x16.bitmask (i8x16.eq (local.get $b3) (local.get $commas))) (i32.const 16))))
              (i64.const 32))))
        ;; Only bytes before $end count, and only commas before the `]`.
        (local.set $bounds (i64.const -1))
        (if (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 64))
          (then
            (local.set $bounds
              (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $p))))
                (i64.const 1)))
            (local.set $mask (i64.and (local.get $mask) (local.get $bounds)))))
        ;; A `]` among the 64 bytes, maybe past $end (where the bytes are anyone's): its mask, kept to
        ;; the bytes before $end.
        (local.set $shut (i64.const 0))
        (if (v128.any_true
              (v128.or
                (v128.or (i8x16.eq (local.get $b0) (local.get $brackets))
                  (i8x16.eq (local.get $b1) (local.get $brackets)))
                (v128.or (i8x16.eq (local.get $b2) (local.get $brackets))
                  (i8x16.eq (local.get $b3) (local.get $brackets)))))
          (then
            (local.set $shut
              (i64.and (local.get $bounds)
                (i64.or
                  (i64.extend_i32_u
                    (i32.or
                      (i8x16.bitmask (i8x16.eq (local.get $b0) (local.get $brackets)))
                      (i32.shl (i8x16.bitmask (i8x16.eq (local.get $b1) (local.get $brackets))) (i32.const 16))))
                  (i64.shl
                    (i64.extend_i32_u
                      (i32.or
                        (i8x16.bitmask (i8x16.eq (local.get $b2) (local.get $brackets)))
                        (i32.shl (i8x16.bitmask (i8x16.eq (local.get $b3) (local.get $brackets))) (i32.const 16))))
                    (i64.const 32)))))
            (if (i64.ne (local.get $shut) (i64.const 0))
              (then
                (local.set $close (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $shut)))))
                (local.set $mask
                  (i64.and (local.get $mask)
                    (i64.sub (i64.shl (i64.const 1) (i64.ctz (local.get $shut))) (i64.const 1))))))))
        ;; The first six positions are stored whatever the count (branches on it mispredict; the numbers of
        ;; an embedding put five or six commas in 64 bytes): slots past the count hold scratch, overwritten
        ;; by the next block or never read.
        (local.set $hits (i32.wrap_i64 (i64.popcnt (local.get $mask))))
        (if (i32.gt_u (i32.add (local.get $count) (local.get $hits)) (local.get $limit)) (then (return (i32.const 0))))
        (local.set $slot (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
        (i32.store (local.get $slot) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $mask)))))
        (local.set $mask (i64.and (local.get $mask) (i64.sub (local.get $mask) (i64.const 1))))
        (i32.store offset=4 (local.get $slot) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $mask)))))
        (local.set $mask (i64.and (local.get $mask) (i64.sub (local.get $mask) (i64.const 1))))
        (i32.store offset=8 (local.get $slot) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $mask)))))
        (local.set $mask (i64.and (local.get $mask) (i64.sub (local.get $mask) (i64.const 1))))
        (i32.store offset=12 (local.get $slot) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $mask)))))
        (local.set $mask (i64.and (local.get $mask) (i64.sub (local.get $mask) (i64.const 1))))
        (i32.store offset=16 (local.get $slot) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $mask)))))
        (local.set $mask (i64.and (local.get $mask) (i64.sub (local.get $mask) (i64.const 1))))
        (i32.store offset=20 (local.get $slot) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $mask)))))
        (local.set $mask (i64.and (local.get $mask) (i64.sub (local.get $mask) (i64.const 1))))
        (if (i32.gt_u (local.get $hits) (i32.const 6))
          (then
            (local.set $slot (i32.add (local.get $slot) (i32.const 24)))
            (block $bits_done
              (loop $bits
                (br_if $bits_done (i64.eqz (local.get $mask)))
                (i32.store (local.get $slot) (i32.add (local.get $p) (i32.wrap_i64 (i64.ctz (local.get $mask)))))
                (local.set $slot (i32.add (local.get $slot) (i32.const 4)))
                (local.set $mask (i64.and (local.get $mask) (i64.sub (local.get $mask) (i64.const 1))))
                (br $bits)))))
        (local.set $count (i32.add (local.get $count) (local.get $hits)))
        (br_if $found (i64.ne (local.get $shut) (i64.const 0)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $blocks)))
    (global.set $array_end (i32.add (local.get $close) (i32.const 1)))
    (if (i32.ge_u (local.get $count) (local.get $limit)) (then (return (i32.const 0))))
    (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (local.get $close))
    (local.set $count (i32.add (local.get $count) (i32.const 1)))
    ;; Second pass: runs of elements of the common form ($pairs, a loop that calls nothing, so that its
    ;; values stay in registers), and each element between them the general way.
    (local.set $indented (i32.le_u (i32.load8_u (i32.add (local.get $start) (i32.const 1))) (i32.const 32)))
    (local.set $to (local.get $start))
    (loop $elements
      (call $pairs (local.get $to) (i32.add (local.get $out) (i32.shl (local.get $element) (i32.const 2)))
        (local.get $element) (local.get $count) (local.get $indented))
      (local.set $to)
      (local.set $element)
      (if (i32.ge_u (local.get $element) (local.get $count)) (then (return (local.get $count))))
      ;; Anything else (another form of number, whitespace around a number): one element the general way.
      (local.set $at (i32.add (local.get $out) (i32.shl (local.get $element) (i32.const 2))))
      (local.set $from (i32.add (local.get $to) (i32.const 1)))
      (local.set $to (i32.load (local.get $at)))
      (global.set $general_count (i32.add (global.get $general_count) (i32.const 1)))
      (if (i32.eqz
            (call $parse_between (local.get $from) (local.get $to) (local.get $at)
              (i32.add (local.get $index) (local.get $element)) (local.get $slow)))
        (then (return (i32.const 0))))
      (local.set $element (i32.add (local.get $element) (i32.const 1)))
      (br_if $elements (i32.lt_u (local.get $element) (local.get $count))))
    (local.get $count))

  ;; Reads element pairs of the common form (see $parse_array) from element $element, whose separators are
  ;; listed from $at (each overwritten by the values as they are read; $to is the separator before it),
  ;; while both elements of the next pair are of that form. Returns the first element it did not read
  ;; ($count when it read them all) and the separator before that element.
  ;;
  ;; An element is read as: its `-`, if any; the `0` after it (one byte compare); then the 16 bytes from
  ;; the `.` less ".000…0", kept up to the separator by the mask of (digits + 1) bytes. The `.` lane must
  ;; read 0 and each digit lane 0..9: plus 127 and 118 they stay below 128, anything else reaches it
  ;; (saturating), so one bitmask of their lane-wise maximum tests every element read together. In a
  ;; compact array, four elements go at a time first (one loop test and one bitmask for four values, two
  ;; divisions in flight: 0.86x the parse's time of two at a time on Node 20, 0.96x on Node 24), then
  ;; the rest two at a time; an indented one is read two at a time, its whitespace skipped first.
  ;; (Reading the digits 2 bytes past a `0.` found by a 16-bit compare, each run tested through its own
  ;; mask, cost more: this loop and the first pass's 64 bytes at a time take 0.70x that parse's time on
  ;; Node 20 and 0.79x on Node 24, for 1,000 vectors of 1,024 values.)
  (func $pairs (param $to i32) (param $at i32) (param $element i32) (param $count i32) (param $indented i32)
    (result i32 i32)
    (local $from i32) (local $to1 i32) (local $from2 i32) (local $to2 i32) (local $from3 i32) (local $to3 i32)
    (local $from4 i32) (local $to4 i32) (local $negative i32) (local $negative2 i32) (local $negative3 i32)
    (local $negative4 i32) (local $run i32) (local $run2 i32) (local $run3 i32) (local $run4 i32)
    (local $bytes v128) (local $bytes2 v128) (local $bytes3 v128) (local $bytes4 v128) (local $eights v128)
    (local $eights2 v128) (local $point v128) (local $limits v128) (local $tens v128) (local $hundreds v128)
    (local $ten_thousands v128) (local $e8 v128) (local $e15 v128)
    (local.set $point (v128.const i8x16 46 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))
    (local.set $limits (v128.const i8x16 127 118 118 118 118 118 118 118 118 118 118 118 118 118 118 118))
    ;; 10a + b from the 16-bit lane a + 256b of two digits: (a + 256b) x 2561 = a + 256(b + 10a) mod 2^16
    ;; (2561 = 1 + 10 x 256, and 655360 b vanishes mod 2^16), and b + 10a <= 99 does not carry.
    (local.set $tens (i16x8.splat (i32.const 2561)))
    (local.set $hundreds (v128.const i16x8 100 1 100 1 100 1 100 1))
    (local.set $ten_thousands (v128.const i16x8 10000 1 10000 1 10000 1 10000 1))
    (local.set $e8 (f64x2.splat (f64.const 100000000)))
    (local.set $e15 (f64x2.splat (f64.const 1e15)))
    (if (i32.eqz (local.get $indented))
      (then
        (block $quads_done
          (loop $quad
            (br_if $quads_done (i32.ge_u (i32.add (local.get $element) (i32.const 3)) (local.get $count)))
            (local.set $from (i32.add (local.get $to) (i32.const 1)))
            (local.set $to1 (i32.load (local.get $at)))
            (local.set $from2 (i32.add (local.get $to1) (i32.const 1)))
            (local.set $to2 (i32.load offset=4 (local.get $at)))
            (local.set $from3 (i32.add (local.get $to2) (i32.const 1)))
            (local.set $to3 (i32.load offset=8 (local.get $at)))
            (local.set $from4 (i32.add (local.get $to3) (i32.const 1)))
            (local.set $to4 (i32.load offset=12 (local.get $at)))
            ;; Any of the four not of the common form: the loop of two at a time reads up to it.
            (local.set $negative (i32.eq (i32.load8_u (local.get $from)) (i32.const 45)))
            (local.set $from (i32.add (local.get $from) (local.get $negative)))
            (br_if $quads_done (i32.ne (i32.load8_u (local.get $from)) (i32.const 48)))
            (local.set $run (i32.sub (i32.sub (local.get $to1) (local.get $from)) (i32.const 3)))
            (br_if $quads_done (i32.gt_u (local.get $run) (i32.const 14)))
            (local.set $negative2 (i32.eq (i32.load8_u (local.get $from2)) (i32.const 45)))
            (local.set $from2 (i32.add (local.get $from2) (local.get $negative2)))
            (br_if $quads_done (i32.ne (i32.load8_u (local.get $from2)) (i32.const 48)))
            (local.set $run2 (i32.sub (i32.sub (local.get $to2) (local.get $from2)) (i32.const 3)))
            (br_if $quads_done (i32.gt_u (local.get $run2) (i32.const 14)))
            (local.set $negative3 (i32.eq (i32.load8_u (local.get $from3)) (i32.const 45)))
            (local.set $from3 (i32.add (local.get $from3) (local.get $negative3)))
            (br_if $quads_done (i32.ne (i32.load8_u (local.get $from3)) (i32.const 48)))
            (local.set $run3 (i32.sub (i32.sub (local.get $to3) (local.get $from3)) (i32.const 3)))
            (br_if $quads_done (i32.gt_u (local.get $run3) (i32.const 14)))
            (local.set $negative4 (i32.eq (i32.load8_u (local.get $from4)) (i32.const 45)))
            (local.set $from4 (i32.add (local.get $from4) (local.get $negative4)))
            (br_if $quads_done (i32.ne (i32.load8_u (local.get $from4)) (i32.const 48)))
            (local.set $run4 (i32.sub (i32.sub (local.get $to4) (local.get $from4)) (i32.const 3)))
            (br_if $quads_done (i32.gt_u (local.get $run4) (i32.const 14)))
            (local.set $bytes
              (v128.and (i8x16.sub (v128.load offset=1 (local.get $from)) (local.get $point))
                (v128.load offset=672 (i32.shl (local.get $run) (i32.const 4)))))
            (local.set $bytes2
              (v128.and (i8x16.sub (v128.load offset=1 (local.get $from2)) (local.get $point))
                (v128.load offset=672 (i32.shl (local.get $run2) (i32.const 4)))))
            (local.set $bytes3
              (v128.and (i8x16.sub (v128.load offset=1 (local.get $from3)) (local.get $point))
                (v128.load offset=672 (i32.shl (local.get $run3) (i32.const 4)))))
            (local.set $bytes4
              (v128.and (i8x16.sub (v128.load offset=1 (local.get $from4)) (local.get $point))
                (v128.load offset=672 (i32.shl (local.get $run4) (i32.const 4)))))
            (br_if $quads_done
              (i8x16.bitmask
                (i8x16.add_sat_u
                  (i8x16.max_u (i8x16.max_u (local.get $bytes) (local.get $bytes2))
                    (i8x16.max_u (local.get $bytes3) (local.get $bytes4)))
                  (local.get $limits))))
            (local.set $eights
              (i32x4.dot_i16x8_s
                (i16x8.narrow_i32x4_s
                  (i32x4.dot_i16x8_s (i16x8.shr_u (i16x8.mul (local.get $bytes) (local.get $tens)) (i32.const 8))
                    (local.get $hundreds))
                  (i32x4.dot_i16x8_s (i16x8.shr_u (i16x8.mul (local.get $bytes2) (local.get $tens)) (i32.const 8))
                    (local.get $hundreds)))
                (local.get $ten_thousands)))
            (local.set $eights2
              (i32x4.dot_i16x8_s
                (i16x8.narrow_i32x4_s
                  (i32x4.dot_i16x8_s (i16x8.shr_u (i16x8.mul (local.get $bytes3) (local.get $tens)) (i32.const 8))
                    (local.get $hundreds))
                  (i32x4.dot_i16x8_s (i16x8.shr_u (i16x8.mul (local.get $bytes4) (local.get $tens)) (i32.const 8))
                    (local.get $hundreds)))
                (local.get $ten_thousands)))
            (i64.store (local.get $at)
              (i64.xor
                (i64x2.extract_lane 0
                  (f32x4.demote_f64x2_zero
                    (f64x2.div
                      (f64x2.add
                        (f64x2.mul
                          (f64x2.convert_low_i32x4_s
                            (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $eights) (local.get $eights)))
                          (local.get $e8))
                        (f64x2.convert_low_i32x4_s
                          (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15
                            (local.get $eights) (local.get $eights))))
                      (local.get $e15))))
                (i64.or
                  (i64.shl (i64.extend_i32_u (local.get $negative)) (i64.const 31))
                  (i64.shl (i64.extend_i32_u (local.get $negative2)) (i64.const 63)))))
            (i64.store offset=8 (local.get $at)
              (i64.xor
                (i64x2.extract_lane 0
                  (f32x4.demote_f64x2_zero
                    (f64x2.div
                      (f64x2.add
                        (f64x2.mul
                          (f64x2.convert_low_i32x4_s
                            (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11
                              (local.get $eights2) (local.get $eights2)))
                          (local.get $e8))
                        (f64x2.convert_low_i32x4_s
                          (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15
                            (local.get $eights2) (local.get $eights2))))
                      (local.get $e15))))
                (i64.or
                  (i64.shl (i64.extend_i32_u (local.get $negative3)) (i64.const 31))
                  (i64.shl (i64.extend_i32_u (local.get $negative4)) (i64.const 63)))))
            (local.set $to (local.get $to4))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (local.set $element (i32.add (local.get $element) (i32.const 4)))
            (br $quad)))))
    (block $stop
      (loop $pair
        (br_if $stop (i32.ge_u (i32.add (local.get $element) (i32.const 1)) (local.get $count)))
        (local.set $from (i32.add (local.get $to) (i32.const 1)))
        (local.set $to1 (i32.load (local.get $at)))
        (local.set $from2 (i32.add (local.get $to1) (i32.const 1)))
        (local.set $to2 (i32.load offset=4 (local.get $at)))
        ;; Whitespace before either, in a pretty-printed array: skipped, as $skip_space does (written out
        ;; here, since a call would cost the loop its registers).
        (if (local.get $indented)
          (then
            (loop $skip_from
              (local.set $bytes (v128.load (local.get $from)))
              (local.set $run
                (i32.ctz
                  (i32.or
                    (i32.xor
                      (i8x16.bitmask
                        (v128.or
                          (v128.or (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 32)))
                            (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 10))))
                          (v128.or (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 13)))
                            (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 9))))))
                      (i32.const 0xffff))
                    (i32.const 0x10000))))
              (local.set $from (i32.add (local.get $from) (local.get $run)))
              (br_if $skip_from (i32.eq (local.get $run) (i32.const 16))))
            (loop $skip_from2
              (local.set $bytes (v128.load (local.get $from2)))
              (local.set $run
                (i32.ctz
                  (i32.or
                    (i32.xor
                      (i8x16.bitmask
                        (v128.or
                          (v128.or (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 32)))
                            (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 10))))
                          (v128.or (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 13)))
                            (i8x16.eq (local.get $bytes) (i8x16.splat (i32.const 9))))))
                      (i32.const 0xffff))
                    (i32.const 0x10000))))
              (local.set $from2 (i32.add (local.get $from2) (local.get $run)))
              (br_if $skip_from2 (i32.eq (local.get $run) (i32.const 16))))))
        ;; A sign, `0`, then `.` and 1 to 15 digits up to the separator: $run is the digits less one.
        (local.set $negative (i32.eq (i32.load8_u (local.get $from)) (i32.const 45)))
        (local.set $from (i32.add (local.get $from) (local.get $negative)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $from)) (i32.const 48)))
        (local.set $run (i32.sub (i32.sub (local.get $to1) (local.get $from)) (i32.const 3)))
        (br_if $stop (i32.gt_u (local.get $run) (i32.const 14)))
        (local.set $negative2 (i32.eq (i32.load8_u (local.get $from2)) (i32.const 45)))
        (local.set $from2 (i32.add (local.get $from2) (local.get $negative2)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $from2)) (i32.const 48)))
        (local.set $run2 (i32.sub (i32.sub (local.get $to2) (local.get $from2)) (i32.const 3)))
        (br_if $stop (i32.gt_u (local.get $run2) (i32.const 14)))
        (local.set $bytes
          (v128.and (i8x16.sub (v128.load offset=1 (local.get $from)) (local.get $point))
            (v128.load offset=672 (i32.shl (local.get $run) (i32.const 4)))))
        (local.set $bytes2
          (v128.and (i8x16.sub (v128.load offset=1 (local.get $from2)) (local.get $point))
            (v128.load offset=672 (i32.shl (local.get $run2) (i32.const 4)))))
        (br_if $stop
          (i8x16.bitmask
            (i8x16.add_sat_u (i8x16.max_u (local.get $bytes) (local.get $bytes2)) (local.get $limits))))
        ;; The 16 lanes hold 0 (the `.`), the digits, then zeros: D x 10^(15 - digits) for the digits D,
        ;; below 10^15 < 2^53, so both eight-digit halves, high x 1e8 and their sum are exact doubles, and
        ;; dividing by 1e15 (exact) rounds once to the double nearest D / 10^digits, which JSON.parse reads.
        ;; Pairs of digits as 16-bit lanes (see $tens), then fours, then [high eight, low eight] of the
        ;; first and of the second; a lane each, high x 1e8 + low, its one rounding division, float32, and
        ;; the sign bit flipped in.
        (local.set $eights
          (i32x4.dot_i16x8_s
            (i16x8.narrow_i32x4_s
              (i32x4.dot_i16x8_s (i16x8.shr_u (i16x8.mul (local.get $bytes) (local.get $tens)) (i32.const 8))
                (local.get $hundreds))
              (i32x4.dot_i16x8_s (i16x8.shr_u (i16x8.mul (local.get $bytes2) (local.get $tens)) (i32.const 8))
                (local.get $hundreds)))
            (local.get $ten_thousands)))
        (i64.store (local.get $at)
          (i64.xor
            (i64x2.extract_lane 0
              (f32x4.demote_f64x2_zero
                (f64x2.div
                  (f64x2.add
                    (f64x2.mul
                      (f64x2.convert_low_i32x4_s
                        (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $eights) (local.get $eights)))
                      (local.get $e8))
                    (f64x2.convert_low_i32x4_s
                      (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $eights) (local.get $eights))))
                  (local.get $e15))))
            (i64.or
              (i64.shl (i64.extend_i32_u (local.get $negative)) (i64.const 31))
              (i64.shl (i64.extend_i32_u (local.get $negative2)) (i64.const 63)))))
        (local.set $to (local.get $to2))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (local.set $element (i32.add (local.get $element) (i32.const 2)))
        (br $pair)))
    (local.get $element)
    (local.get $to))

  ;; Reads the element from $from to its separator at $to: whitespace, one number ($parse_number, stored
  ;; at $out), whitespace. Returns 1, or 0 when that is not what lies between.
  (func $parse_between (param $from i32) (param $to i32) (param $out i32) (param $index i32) (param $slow i32)
    (result i32)
    ;; The separator at $to is not whitespace, so neither skip runs past it.
    (local.set $from (call $skip_space (local.get $from)))
    (if (i32.ge_u (local.get $from) (local.get $to)) (then (return (i32.const 0))))
    (local.set $from (call $parse_number (local.get $from) (local.get $out) (local.get $index) (local.get $slow)))
    (if (i32.eqz (local.get $from)) (then (return (i32.const 0))))
    (i32.eq (call $skip_space (local.get $from)) (local.get $to)))

  (func $note_slow (param $slow i32) (param $index i32) (param $start i32) (param $end i32)
    (local $at i32)
    (local.set $at (i32.add (local.get $slow) (i32.mul (global.get $slow_count) (i32.const 12))))
    (i32.store (local.get $at) (local.get $index))
    (i32.store offset=4 (local.get $at) (local.get $start))
    (i32.store offset=8 (local.get $at) (local.get $end))
    (global.set $slow_count (i32.add (global.get $slow_count) (i32.const 1))))

  ;; ---- base64 -------------------------------------------------------------------------------------

  ;; Decodes 16 base64 characters at $p (standard alphabet, no padding) into 12 bytes stored at $out (16
  ;; bytes are written; the last 4 are scratch). Returns a vector that is non-zero where a character was
  ;; outside the alphabet.
  (func $base64_block (param $p i32) (param $out i32) (result v128)
    (local $text v128) (local $high v128) (local $values v128) (local $bad v128)
    (local.set $text (v128.load (local.get $p)))
    (local.set $high (i8x16.shr_u (local.get $text) (i32.const 4)))
    ;; A character is in the alphabet when the table of its low nibble and the table of its high nibble
    ;; share no bit (the classic nibble-table check of the standard alphabet).
    (local.set $bad
      (v128.and
        (i8x16.swizzle
          (v128.const i8x16 0x15 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x11 0x13 0x1A 0x1B 0x1B 0x1B 0x1A)
          (v128.and (local.get $text) (i8x16.splat (i32.const 15))))
        (i8x16.swizzle
          (v128.const i8x16 0x10 0x10 0x01 0x02 0x04 0x08 0x04 0x08 0x10 0x10 0x10 0x10 0x10 0x10 0x10 0x10)
          (local.get $high))))
    ;; Value = character + an offset chosen by its high nibble ('/' shares '+''s nibble: one less).
    (local.set $values
      (i8x16.add (local.get $text)
        (i8x16.swizzle
          (v128.const i8x16 0 16 19 4 -65 -65 -71 -71 0 0 0 0 0 0 0 0)
          (i8x16.add (local.get $high) (i8x16.eq (local.get $text) (i8x16.splat (i32.const 0x2f)))))))
    ;; Four 6-bit values to 24 bits: pairs into 12 bits, pairs of those into 24, big-endian.
    (local.set $values
      (v128.or
        (i16x8.shl (v128.and (local.get $values) (i16x8.splat (i32.const 0x3f))) (i32.const 6))
        (i16x8.shr_u (local.get $values) (i32.const 8))))
    (local.set $values
      (v128.or
        (i32x4.shl (v128.and (local.get $values) (i32x4.splat (i32.const 0xfff))) (i32.const 12))
        (i32x4.shr_u (local.get $values) (i32.const 16))))
    (v128.store (local.get $out)
      (i8x16.swizzle (local.get $values) (v128.const i8x16 2 1 0 6 5 4 10 9 8 14 13 12 -1 -1 -1 -1)))
    (local.get $bad))

  ;; Decodes $count base64 strings listed at $ranges as (first character, end) pairs (quotes excluded)
  ;; into $length bytes each, back to back at $out (4 bytes of scratch after the last). Returns how many
  ;; decoded; fewer than $count means the next is not plain base64 of exactly $length bytes.
  (func (export "decode_base64") (param $ranges i32) (param $count i32) (param $out i32) (param $length i32)
    (result i32)
    (local $index i32) (local $p i32) (local $end i32) (local $at i32) (local $bad v128) (local $rest i32)
    (local $byte i32)
    (block $done
      (loop $strings
        (br_if $done (i32.ge_u (local.get $index) (local.get $count)))
        (local.set $p (i32.load (local.get $ranges)))
        (local.set $end (i32.load offset=4 (local.get $ranges)))
        ;; Up to two `=` of padding, and only in a string whose length is a multiple of 4 (as atob reads
        ;; it, and base64Size in vectors.ts): elsewhere a `=` is a character outside the alphabet.
        (if (i32.and
              (i32.and (i32.eqz (i32.and (i32.sub (local.get $end) (local.get $p)) (i32.const 3)))
                       (i32.gt_u (local.get $end) (local.get $p)))
              (i32.eq (i32.load8_u offset=0 (i32.sub (local.get $end) (i32.const 1))) (i32.const 61)))
          (then
            (local.set $end (i32.sub (local.get $end) (i32.const 1)))
            (if (i32.eq (i32.load8_u offset=0 (i32.sub (local.get $end) (i32.const 1))) (i32.const 61))
              (then (local.set $end (i32.sub (local.get $end) (i32.const 1)))))))
        ;; n characters hold floor(3n / 4) bytes; n mod 4 = 1 is never base64.
        (br_if $done
          (i32.or
            (i32.eq (i32.and (i32.sub (local.get $end) (local.get $p)) (i32.const 3)) (i32.const 1))
            (i32.ne
              (i32.shr_u (i32.mul (i32.sub (local.get $end) (local.get $p)) (i32.const 3)) (i32.const 2))
              (local.get $length))))
        (local.set $at (i32.add (local.get $out) (i32.mul (local.get $index) (local.get $length))))
        (local.set $bad (v128.const i32x4 0 0 0 0))
        (block $blocks_done
          (loop $blocks
            (br_if $blocks_done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
            (local.set $bad (v128.or (local.get $bad) (call $base64_block (local.get $p) (local.get $at))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $at (i32.add (local.get $at) (i32.const 12)))
            (br $blocks)))
        ;; The last characters: copied into a block of 'A's (value 0), decoded, and as many bytes kept
        ;; as they hold.
        (local.set $rest (i32.sub (local.get $end) (local.get $p)))
        (if (local.get $rest)
          (then
            (v128.store (i32.const 608) (i8x16.splat (i32.const 65)))
            (memory.copy (i32.const 608) (local.get $p) (local.get $rest))
            (local.set $bad (v128.or (local.get $bad) (call $base64_block (i32.const 608) (i32.const 624))))
            (memory.copy (local.get $at) (i32.const 624) (i32.shr_u (i32.mul (local.get $rest) (i32.const 3)) (i32.const 2)))))
        (br_if $done (v128.any_true (local.get $bad)))
        (local.set $ranges (i32.add (local.get $ranges) (i32.const 8)))
        (local.set $index (i32.add (local.get $index) (i32.const 1)))
        (br $strings)))
    (local.get $index))

  ;; ---- checks ---------------------------------------------------------------------------------------

  ;; 1 when none of the $count float32 values at $p has all its exponent bits set (an infinity or NaN).
  (func (export "all_finite") (param $p i32) (param $count i32) (result i32)
    (local $end i32) (local $bad v128) (local $exponent v128)
    (local.set $exponent (i32x4.splat (i32.const 0x7f800000)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $count) (i32.const -16)) (i32.const 2))))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $bad
          (v128.or
            (v128.or
              (v128.or (local.get $bad)
                (i32x4.eq (v128.and (v128.load (local.get $p)) (local.get $exponent)) (local.get $exponent)))
              (i32x4.eq (v128.and (v128.load offset=16 (local.get $p)) (local.get $exponent)) (local.get $exponent)))
            (v128.or
              (i32x4.eq (v128.and (v128.load offset=32 (local.get $p)) (local.get $exponent)) (local.get $exponent))
              (i32x4.eq (v128.and (v128.load offset=48 (local.get $p)) (local.get $exponent)) (local.get $exponent)))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $blocks)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $count) (i32.const 15)) (i32.const 2))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (if (i32.eq (i32.and (i32.load (local.get $p)) (i32.const 0x7f800000)) (i32.const 0x7f800000))
          (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail)))
    (i32.eqz (v128.any_true (local.get $bad))))
)
