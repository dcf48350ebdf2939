;; embedkit's WebAssembly kernels: JSON float parsing and the search inner loops. Compiled to
;; kernels-bytes.ts by scripts/build-wasm.mjs (wabt from npm). Every kernel has a JavaScript twin that
;; gives bit-identical results; the WebAssembly is only ever a faster way to the same numbers.
;;
;; The memory is owned by the module and laid out by the caller (src/wasm/kernels.ts), which writes these
;; tables once after instantiation: the powers of ten 1e0..1e22 (f64) at byte 0, 10^0..10^16 (i64) at
;; byte 192, and at byte 336, for each n in 0..16, the 16 swizzle indices that move the first n bytes of
;; a vector to its end (zeros before them).
(module
  (memory (export "memory") 1)

  ;; ---- JSON float arrays ------------------------------------------------------------------------

  ;; Slow numbers found by parse_arrays: how many, and whether a stored value overflowed float32.
  (global $slow_count (export "slow_count") (mut i32) (i32.const 0))
  (global $overflow (export "overflow") (mut i32) (i32.const 0))

  ;; JSON whitespace: space, tab, line feed, carriage return (and nothing else).
  (func $is_space (param $c i32) (result i32)
    (i32.or
      (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))
      (i32.or (i32.eq (local.get $c) (i32.const 13)) (i32.eq (local.get $c) (i32.const 9)))))

  ;; Values the last parse_array read.
  (global $parsed (export "parsed") (mut i32) (i32.const 0))

  ;; Parses the JSON number array whose `[` is at $p into at most $limit float32 values at $out; returns
  ;; the byte after its `]` (and sets $parsed), or 0 when the bytes are anything else (a malformed number,
  ;; another element, more than $limit values, no value). A number whose float32 this cannot prove is
  ;; stored as 0 and listed at $slow as (value index, first byte, end byte) for the caller to read
  ;; exactly; $index is this array's first value index.
  ;;
  ;; Proof: with at most 2^53 as digits and a decimal exponent within +-22, one correctly rounded f64
  ;; operation on exact operands gives the double JSON.parse reads; f32.demote then rounds it as
  ;; Math.fround does. With up to 19 digits, that double is within 2^-51 (relative) of the approximation
  ;; computed the same way; when both ends of that margin demote to one float32, so does it.
  (func $parse_array (export "parse_array") (param $p i32) (param $out i32) (param $limit i32) (param $index i32)
    (param $slow i32) (result i32)
    (local $c i32) (local $count i32) (local $negative i32) (local $mantissa i64) (local $scale i32)
    (local $digits i32) (local $start i32) (local $number i32) (local $run i32) (local $exponent i32)
    (local $exponent_negative i32) (local $value f64) (local $margin f64) (local $stored f32)
    (local $bytes v128) (local $pairs v128) (local $fours v128) (local $eights v128)
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (block $fail
      (loop $number_loop
        ;; Whitespace is rare here: one comparison rules it out for every byte above a space.
        (block $spaced
          (loop $space
            (local.set $c (i32.load8_u (local.get $p)))
            (br_if $spaced (i32.gt_u (local.get $c) (i32.const 32)))
            (br_if $fail (i32.eqz (call $is_space (local.get $c))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $space)))
        (br_if $fail (i32.ge_u (local.get $count) (local.get $limit)))
        (local.set $number (local.get $p))
        (local.set $negative (i32.eq (local.get $c) (i32.const 45)))
        (local.set $p (i32.add (local.get $p) (local.get $negative)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $mantissa (i64.const 0))
        (local.set $scale (i32.const 0))
        (local.set $digits (i32.const 0))
        (if (i32.eq (local.get $c) (i32.const 48))
          (then
            ;; A leading zero: a digit after it fails at the delimiter check.
            (local.set $p (i32.add (local.get $p) (i32.const 1))))
          (else
            (br_if $fail (i32.gt_u (i32.sub (local.get $c) (i32.const 49)) (i32.const 8)))
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
            ;; Up to 16 fraction digits in one step, without a branch per digit: the run of digits in
            ;; the next 16 bytes is moved to the end of a vector (zeros before it), and its value summed
            ;; as pairs, then fours, then eights, each a dot product with powers of ten.
            (local.set $bytes (i8x16.sub (v128.load (local.get $p)) (i8x16.splat (i32.const 48))))
            (local.set $run
              (i32.ctz
                (i32.or
                  (i8x16.bitmask (i8x16.gt_u (local.get $bytes) (i8x16.splat (i32.const 9))))
                  (i32.const 0x10000))))
            (br_if $fail (i32.eqz (local.get $run)))
            (local.set $bytes
              (i8x16.swizzle (local.get $bytes) (v128.load offset=336 (i32.shl (local.get $run) (i32.const 4)))))
            (local.set $pairs
              (i16x8.narrow_i32x4_s
                (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $bytes))
                  (v128.const i16x8 10 1 10 1 10 1 10 1))
                (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $bytes))
                  (v128.const i16x8 10 1 10 1 10 1 10 1))))
            (local.set $fours (i32x4.dot_i16x8_s (local.get $pairs) (v128.const i16x8 100 1 100 1 100 1 100 1)))
            (local.set $eights
              (i32x4.dot_i16x8_s (i16x8.narrow_i32x4_s (local.get $fours) (local.get $fours))
                (v128.const i16x8 10000 1 10000 1 10000 1 10000 1)))
            (local.set $mantissa
              (i64.add
                (i64.mul (local.get $mantissa)
                  (i64.load offset=192 (i32.shl (local.get $run) (i32.const 3))))
                (i64.add
                  (i64.mul (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $eights))) (i64.const 100000000))
                  (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $eights))))))
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
            (local.set $exponent (i32.const 0))
            (block $exponent_done
              (loop $exponent_digits
                (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
                (br_if $exponent_done (i32.gt_u (local.get $c) (i32.const 9)))
                ;; Capped: an exponent this large is the slow path's either way.
                (if (i32.lt_u (local.get $exponent) (i32.const 100000))
                  (then
                    (local.set $exponent
                      (i32.add (i32.mul (local.get $exponent) (i32.const 10)) (local.get $c)))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $exponent_digits)))
            (br_if $fail (i32.eq (local.get $p) (local.get $start)))
            (local.set $scale
              (i32.add
                (local.get $scale)
                (select
                  (i32.sub (i32.const 0) (local.get $exponent))
                  (local.get $exponent)
                  (local.get $exponent_negative))))))
        (block $stored_value
          ;; First: past 19 digits the i64 mantissa has wrapped (it may even read 0).
          (if (i32.or
                (i32.gt_u (local.get $digits) (i32.const 19))
                (i32.gt_u (i32.add (local.get $scale) (i32.const 22)) (i32.const 44)))
            (then
              (call $note_slow (local.get $slow) (i32.add (local.get $index) (local.get $count))
                (local.get $number) (local.get $p))
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
              (local.set $value
                (f64.mul (local.get $value) (f64.load (i32.shl (local.get $scale) (i32.const 3)))))))
          (if (local.get $negative) (then (local.set $value (f64.neg (local.get $value)))))
          (local.set $stored (f32.demote_f64 (local.get $value)))
          (if (i64.gt_u (local.get $mantissa) (i64.const 9007199254740992))
            (then
              (local.set $margin (f64.mul (f64.abs (local.get $value)) (f64.const 0x1p-50)))
              (if (f32.ne
                    (f32.demote_f64 (f64.sub (local.get $value) (local.get $margin)))
                    (f32.demote_f64 (f64.add (local.get $value) (local.get $margin))))
                (then
                  (call $note_slow (local.get $slow) (i32.add (local.get $index) (local.get $count))
                    (local.get $number) (local.get $p))
                  (local.set $stored (f32.const 0))
                  (br $stored_value)))
              (if (f32.eq (f32.abs (local.get $stored)) (f32.const inf))
                (then (global.set $overflow (i32.const 1)))))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (local.get $stored))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $number_loop (i32.eq (local.get $c) (i32.const 44)))
        (if (call $is_space (local.get $c))
          (then
            (loop $space_after
              (local.set $c (i32.load8_u (local.get $p)))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br_if $space_after (call $is_space (local.get $c))))
            (br_if $number_loop (i32.eq (local.get $c) (i32.const 44)))))
        (br_if $fail (i32.ne (local.get $c) (i32.const 93)))
        (global.set $parsed (local.get $count))
        (return (local.get $p))))
    (i32.const 0))

  (func $note_slow (param $slow i32) (param $index i32) (param $start i32) (param $end i32)
    (local $at i32)
    (local.set $at (i32.add (local.get $slow) (i32.mul (global.get $slow_count) (i32.const 12))))
    (i32.store (local.get $at) (local.get $index))
    (i32.store offset=4 (local.get $at) (local.get $start))
    (i32.store offset=8 (local.get $at) (local.get $end))
    (global.set $slow_count (i32.add (global.get $slow_count) (i32.const 1))))

  ;; Parses $count arrays listed at $ranges as (first byte, end byte) pairs into consecutive vectors
  ;; of exactly $dims values at $out. Returns how many parsed; fewer than $count means the next did not.
  (func (export "parse_arrays") (param $ranges i32) (param $count i32) (param $out i32) (param $dims i32)
    (param $slow i32) (result i32)
    (local $index i32) (local $end i32)
    (global.set $slow_count (i32.const 0))
    (global.set $overflow (i32.const 0))
    (block $done
      (loop $arrays
        (br_if $done (i32.ge_u (local.get $index) (local.get $count)))
        (local.set $end
          (call $parse_array
            (i32.load (local.get $ranges))
            (i32.add (local.get $out) (i32.shl (i32.mul (local.get $index) (local.get $dims)) (i32.const 2)))
            (local.get $dims)
            (i32.mul (local.get $index) (local.get $dims))
            (local.get $slow)))
        (br_if $done (i32.ne (local.get $end) (i32.load offset=4 (local.get $ranges))))
        (br_if $done (i32.ne (global.get $parsed) (local.get $dims)))
        (local.set $ranges (i32.add (local.get $ranges) (i32.const 8)))
        (local.set $index (i32.add (local.get $index) (i32.const 1)))
        (br $arrays)))
    (local.get $index))

  ;; ---- search ---------------------------------------------------------------------------------------

  ;; out[j] = the dot product of the f64 query at $query with float32 vector j at $vectors, for $count
  ;; vectors of $dims values ($dims a multiple of 8). Element i goes to sum (i mod 8), each product
  ;; exact or rounded once in f64, and the sums meet as ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)): the
  ;; order of the JavaScript kernel, so the results are the same doubles.
  (func (export "dots_f32") (param $query i32) (param $vectors i32) (param $count i32) (param $dims i32)
    (param $out i32)
    (local $s01 v128) (local $s23 v128) (local $s45 v128) (local $s67 v128) (local $q i32)
    (local $end i32) (local $sum v128)
    (local.set $end (local.get $vectors))
    (block $done
      (loop $vector
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $end (i32.add (local.get $end) (i32.shl (local.get $dims) (i32.const 2))))
        (local.set $s01 (v128.const f64x2 0 0))
        (local.set $s23 (v128.const f64x2 0 0))
        (local.set $s45 (v128.const f64x2 0 0))
        (local.set $s67 (v128.const f64x2 0 0))
        (local.set $q (local.get $query))
        (loop $eight
          (local.set $s01 (f64x2.add (local.get $s01)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $vectors)))
              (v128.load (local.get $q)))))
          (local.set $s23 (f64x2.add (local.get $s23)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $vectors)))
              (v128.load offset=16 (local.get $q)))))
          (local.set $s45 (f64x2.add (local.get $s45)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $vectors)))
              (v128.load offset=32 (local.get $q)))))
          (local.set $s67 (f64x2.add (local.get $s67)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $vectors)))
              (v128.load offset=48 (local.get $q)))))
          (local.set $vectors (i32.add (local.get $vectors) (i32.const 32)))
          (local.set $q (i32.add (local.get $q) (i32.const 64)))
          (br_if $eight (i32.lt_u (local.get $vectors) (local.get $end))))
        ;; Lanes: (s0+s2, s1+s3) + (s4+s6, s5+s7), then lane 0 + lane 1.
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $s01) (local.get $s23)) (f64x2.add (local.get $s45) (local.get $s67))))
        (f64.store (local.get $out)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $vector))))

  ;; out[j] = the dot product of float32 vector j with itself, in the same order as dots_f32.
  (func (export "squares_f32") (param $vectors i32) (param $count i32) (param $dims i32) (param $out i32)
    (local $s01 v128) (local $s23 v128) (local $s45 v128) (local $s67 v128) (local $x v128)
    (local $end i32) (local $sum v128)
    (local.set $end (local.get $vectors))
    (block $done
      (loop $vector
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $end (i32.add (local.get $end) (i32.shl (local.get $dims) (i32.const 2))))
        (local.set $s01 (v128.const f64x2 0 0))
        (local.set $s23 (v128.const f64x2 0 0))
        (local.set $s45 (v128.const f64x2 0 0))
        (local.set $s67 (v128.const f64x2 0 0))
        (loop $eight
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $vectors))))
          (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $vectors))))
          (local.set $s23 (f64x2.add (local.get $s23) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $vectors))))
          (local.set $s45 (f64x2.add (local.get $s45) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $vectors))))
          (local.set $s67 (f64x2.add (local.get $s67) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $vectors (i32.add (local.get $vectors) (i32.const 32)))
          (br_if $eight (i32.lt_u (local.get $vectors) (local.get $end))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $s01) (local.get $s23)) (f64x2.add (local.get $s45) (local.get $s67))))
        (f64.store (local.get $out)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $vector))))

  ;; out[j] (i32) = the dot product of the int8 query at $query with int8 vector j, $dims bytes each.
  ;; Integer sums are exact in any order (the caller keeps $dims below 2^31 / 128^2).
  (func (export "dots_i8") (param $query i32) (param $vectors i32) (param $count i32) (param $dims i32)
    (param $out i32)
    (local $sum v128) (local $q i32) (local $end i32) (local $body_end i32) (local $a v128) (local $b v128)
    (local $total i32)
    (local.set $end (local.get $vectors))
    (block $done
      (loop $vector
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $end (i32.add (local.get $end) (local.get $dims)))
        (local.set $body_end (i32.sub (local.get $end) (i32.and (local.get $dims) (i32.const 15))))
        (local.set $sum (v128.const i32x4 0 0 0 0))
        (local.set $q (local.get $query))
        (block $sixteens_done
          (loop $sixteens
            (br_if $sixteens_done (i32.ge_u (local.get $vectors) (local.get $body_end)))
            (local.set $a (v128.load (local.get $vectors)))
            (local.set $b (v128.load (local.get $q)))
            (local.set $sum (i32x4.add (local.get $sum)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $a)) (i16x8.extend_low_i8x16_s (local.get $b)))))
            (local.set $sum (i32x4.add (local.get $sum)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $a)) (i16x8.extend_high_i8x16_s (local.get $b)))))
            (local.set $vectors (i32.add (local.get $vectors) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br $sixteens)))
        (local.set $total
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
            (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $vectors) (local.get $end)))
            (local.set $total (i32.add (local.get $total)
              (i32.mul (i32.load8_s (local.get $vectors)) (i32.load8_s (local.get $q)))))
            (local.set $vectors (i32.add (local.get $vectors) (i32.const 1)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $tail)))
        (i32.store (local.get $out) (local.get $total))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $vector))))

  ;; out[j] (i32) = the number of bits in which bit-packed vector j differs from the query, $bytes each.
  (func (export "hamming") (param $query i32) (param $vectors i32) (param $count i32) (param $bytes i32)
    (param $out i32)
    (local $sum v128) (local $q i32) (local $end i32) (local $body_end i32) (local $total i32)
    (local.set $end (local.get $vectors))
    (block $done
      (loop $vector
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $end (i32.add (local.get $end) (local.get $bytes)))
        (local.set $body_end (i32.sub (local.get $end) (i32.and (local.get $bytes) (i32.const 15))))
        (local.set $sum (v128.const i32x4 0 0 0 0))
        (local.set $q (local.get $query))
        (block $sixteens_done
          (loop $sixteens
            (br_if $sixteens_done (i32.ge_u (local.get $vectors) (local.get $body_end)))
            (local.set $sum (i32x4.add (local.get $sum)
              (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u
                (i8x16.popcnt (v128.xor (v128.load (local.get $vectors)) (v128.load (local.get $q))))))))
            (local.set $vectors (i32.add (local.get $vectors) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br $sixteens)))
        (local.set $total
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
            (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $vectors) (local.get $end)))
            (local.set $total (i32.add (local.get $total)
              (i32.popcnt (i32.xor (i32.load8_u (local.get $vectors)) (i32.load8_u (local.get $q))))))
            (local.set $vectors (i32.add (local.get $vectors) (i32.const 1)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $tail)))
        (i32.store (local.get $out) (local.get $total))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $vector))))
)
