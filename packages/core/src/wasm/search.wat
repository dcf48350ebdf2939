;; embedkit's WebAssembly search kernels: the inner loops of topK, topKInt8 and topKHamming. A second
;; module (each stays under 4 KB, small enough for a browser to compile on its main thread) that works
;; on the memory of kernels.wat's module, imported, so that both share one memory and one layout.
;; Compiled to kernels-bytes.ts by scripts/build-wasm.mjs with kernels.wat. Every kernel has a
;; JavaScript twin that gives bit-identical results.
(module
  (import "kernels" "memory" (memory 1))

  ;; out[j] = the dot product of the f64 query at $query with float32 vector j at $vectors, for $count
  ;; vectors of $dims values ($dims a multiple of 8). Element i goes to sum (i mod 8), each product
  ;; exact or rounded once in f64, and the sums meet as ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)): the
  ;; order of the JavaScript kernel, so the results are the same doubles. Four vectors are read side by
  ;; side (lanes a to d, eight sums each, each query load serving all four): four streams from memory
  ;; and four times the independent additions make it about 40% faster than one vector at a time. In a
  ;; last group of fewer than four, the lanes past its end read its last vector again and store the same
  ;; double in that vector's slot.
  (func (export "dots_f32") (param $query i32) (param $vectors i32) (param $count i32) (param $dims i32)
    (param $out i32)
    (local $a01 v128) (local $a23 v128) (local $a45 v128) (local $a67 v128)
    (local $b01 v128) (local $b23 v128) (local $b45 v128) (local $b67 v128)
    (local $c01 v128) (local $c23 v128) (local $c45 v128) (local $c67 v128)
    (local $d01 v128) (local $d23 v128) (local $d45 v128) (local $d67 v128)
    (local $zero v128) (local $sum v128) (local $x v128)
    (local $pa i32) (local $pb i32) (local $pc i32) (local $pd i32) (local $ob i32) (local $oc i32) (local $od i32)
    (local $q i32) (local $end i32) (local $stride i32) (local $last i32) (local $m i32)
    ;; $zero is never set: it resets the sums in 4 bytes of code each, where a constant takes 18.
    (local.set $stride (i32.shl (local.get $dims) (i32.const 2)))
    (block $done
      (loop $groups
        (br_if $done (i32.eqz (local.get $count)))
        ;; Lane k reads vector min(k, count - 1) of the group and stores into its slot.
        (local.set $pa (local.get $vectors))
        (local.set $last (i32.sub (local.get $count) (i32.const 1)))
        (local.set $m (select (i32.const 1) (local.get $last) (i32.lt_u (i32.const 1) (local.get $count))))
        (local.set $pb (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $stride))))
        (local.set $ob (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $m (select (i32.const 2) (local.get $last) (i32.lt_u (i32.const 2) (local.get $count))))
        (local.set $pc (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $stride))))
        (local.set $oc (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $m (select (i32.const 3) (local.get $last) (i32.lt_u (i32.const 3) (local.get $count))))
        (local.set $pd (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $stride))))
        (local.set $od (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $end (i32.add (local.get $pa) (local.get $stride)))
        (local.set $a01 (local.get $zero)) (local.set $a23 (local.get $zero))
        (local.set $a45 (local.get $zero)) (local.set $a67 (local.get $zero))
        (local.set $b01 (local.get $zero)) (local.set $b23 (local.get $zero))
        (local.set $b45 (local.get $zero)) (local.set $b67 (local.get $zero))
        (local.set $c01 (local.get $zero)) (local.set $c23 (local.get $zero))
        (local.set $c45 (local.get $zero)) (local.set $c67 (local.get $zero))
        (local.set $d01 (local.get $zero)) (local.set $d23 (local.get $zero))
        (local.set $d45 (local.get $zero)) (local.set $d67 (local.get $zero))
        (local.set $q (local.get $query))
        (loop $eight
          (local.set $x (v128.load (local.get $q)))
          (local.set $a01 (f64x2.add (local.get $a01)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pa))) (local.get $x))))
          (local.set $b01 (f64x2.add (local.get $b01)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pb))) (local.get $x))))
          (local.set $c01 (f64x2.add (local.get $c01)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pc))) (local.get $x))))
          (local.set $d01 (f64x2.add (local.get $d01)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pd))) (local.get $x))))
          (local.set $x (v128.load offset=16 (local.get $q)))
          (local.set $a23 (f64x2.add (local.get $a23)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pa))) (local.get $x))))
          (local.set $b23 (f64x2.add (local.get $b23)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pb))) (local.get $x))))
          (local.set $c23 (f64x2.add (local.get $c23)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pc))) (local.get $x))))
          (local.set $d23 (f64x2.add (local.get $d23)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pd))) (local.get $x))))
          (local.set $x (v128.load offset=32 (local.get $q)))
          (local.set $a45 (f64x2.add (local.get $a45)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pa))) (local.get $x))))
          (local.set $b45 (f64x2.add (local.get $b45)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pb))) (local.get $x))))
          (local.set $c45 (f64x2.add (local.get $c45)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pc))) (local.get $x))))
          (local.set $d45 (f64x2.add (local.get $d45)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pd))) (local.get $x))))
          (local.set $x (v128.load offset=48 (local.get $q)))
          (local.set $a67 (f64x2.add (local.get $a67)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pa))) (local.get $x))))
          (local.set $b67 (f64x2.add (local.get $b67)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pb))) (local.get $x))))
          (local.set $c67 (f64x2.add (local.get $c67)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pc))) (local.get $x))))
          (local.set $d67 (f64x2.add (local.get $d67)
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pd))) (local.get $x))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 32)))
          (local.set $pd (i32.add (local.get $pd) (i32.const 32)))
          (local.set $q (i32.add (local.get $q) (i32.const 64)))
          (br_if $eight (i32.lt_u (local.get $pa) (local.get $end))))
        ;; Lanes: (s0+s2, s1+s3) + (s4+s6, s5+s7), then lane 0 + lane 1.
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $a01) (local.get $a23)) (f64x2.add (local.get $a45) (local.get $a67))))
        (f64.store (local.get $out)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $b01) (local.get $b23)) (f64x2.add (local.get $b45) (local.get $b67))))
        (f64.store (local.get $ob)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $c01) (local.get $c23)) (f64x2.add (local.get $c45) (local.get $c67))))
        (f64.store (local.get $oc)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $d01) (local.get $d23)) (f64x2.add (local.get $d45) (local.get $d67))))
        (f64.store (local.get $od)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $vectors (i32.add (local.get $vectors) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $count
          (select (i32.sub (local.get $count) (i32.const 4)) (i32.const 0) (i32.gt_u (local.get $count) (i32.const 4))))
        (br $groups))))

  ;; out[j] = the dot product of float32 vector j with itself, in the same order as dots_f32, and four
  ;; vectors side by side in the same way.
  (func (export "squares_f32") (param $vectors i32) (param $count i32) (param $dims i32) (param $out i32)
    (local $a01 v128) (local $a23 v128) (local $a45 v128) (local $a67 v128)
    (local $b01 v128) (local $b23 v128) (local $b45 v128) (local $b67 v128)
    (local $c01 v128) (local $c23 v128) (local $c45 v128) (local $c67 v128)
    (local $d01 v128) (local $d23 v128) (local $d45 v128) (local $d67 v128)
    (local $zero v128) (local $sum v128) (local $x v128)
    (local $pa i32) (local $pb i32) (local $pc i32) (local $pd i32) (local $ob i32) (local $oc i32) (local $od i32)
    (local $end i32) (local $stride i32) (local $last i32) (local $m i32)
    (local.set $stride (i32.shl (local.get $dims) (i32.const 2)))
    (block $done
      (loop $groups
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $pa (local.get $vectors))
        (local.set $last (i32.sub (local.get $count) (i32.const 1)))
        (local.set $m (select (i32.const 1) (local.get $last) (i32.lt_u (i32.const 1) (local.get $count))))
        (local.set $pb (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $stride))))
        (local.set $ob (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $m (select (i32.const 2) (local.get $last) (i32.lt_u (i32.const 2) (local.get $count))))
        (local.set $pc (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $stride))))
        (local.set $oc (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $m (select (i32.const 3) (local.get $last) (i32.lt_u (i32.const 3) (local.get $count))))
        (local.set $pd (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $stride))))
        (local.set $od (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 3))))
        (local.set $end (i32.add (local.get $pa) (local.get $stride)))
        (local.set $a01 (local.get $zero)) (local.set $a23 (local.get $zero))
        (local.set $a45 (local.get $zero)) (local.set $a67 (local.get $zero))
        (local.set $b01 (local.get $zero)) (local.set $b23 (local.get $zero))
        (local.set $b45 (local.get $zero)) (local.set $b67 (local.get $zero))
        (local.set $c01 (local.get $zero)) (local.set $c23 (local.get $zero))
        (local.set $c45 (local.get $zero)) (local.set $c67 (local.get $zero))
        (local.set $d01 (local.get $zero)) (local.set $d23 (local.get $zero))
        (local.set $d45 (local.get $zero)) (local.set $d67 (local.get $zero))
        (loop $eight
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pa))))
          (local.set $a01 (f64x2.add (local.get $a01) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pb))))
          (local.set $b01 (f64x2.add (local.get $b01) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pc))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pd))))
          (local.set $d01 (f64x2.add (local.get $d01) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pa))))
          (local.set $a23 (f64x2.add (local.get $a23) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pb))))
          (local.set $b23 (f64x2.add (local.get $b23) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pc))))
          (local.set $c23 (f64x2.add (local.get $c23) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pd))))
          (local.set $d23 (f64x2.add (local.get $d23) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pa))))
          (local.set $a45 (f64x2.add (local.get $a45) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pb))))
          (local.set $b45 (f64x2.add (local.get $b45) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pc))))
          (local.set $c45 (f64x2.add (local.get $c45) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $pd))))
          (local.set $d45 (f64x2.add (local.get $d45) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pa))))
          (local.set $a67 (f64x2.add (local.get $a67) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pb))))
          (local.set $b67 (f64x2.add (local.get $b67) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pc))))
          (local.set $c67 (f64x2.add (local.get $c67) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $x (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $pd))))
          (local.set $d67 (f64x2.add (local.get $d67) (f64x2.mul (local.get $x) (local.get $x))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 32)))
          (local.set $pd (i32.add (local.get $pd) (i32.const 32)))
          (br_if $eight (i32.lt_u (local.get $pa) (local.get $end))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $a01) (local.get $a23)) (f64x2.add (local.get $a45) (local.get $a67))))
        (f64.store (local.get $out)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $b01) (local.get $b23)) (f64x2.add (local.get $b45) (local.get $b67))))
        (f64.store (local.get $ob)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $c01) (local.get $c23)) (f64x2.add (local.get $c45) (local.get $c67))))
        (f64.store (local.get $oc)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $sum
          (f64x2.add (f64x2.add (local.get $d01) (local.get $d23)) (f64x2.add (local.get $d45) (local.get $d67))))
        (f64.store (local.get $od)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
        (local.set $vectors (i32.add (local.get $vectors) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $count
          (select (i32.sub (local.get $count) (i32.const 4)) (i32.const 0) (i32.gt_u (local.get $count) (i32.const 4))))
        (br $groups))))

  ;; out[j] (i32) = the dot product of int8 vector j with the int8 query, $dims each: exact (the caller keeps
  ;; $dims below 2^31 / 128^2, so no sum can wrap).
  (func (export "dots_i8") (param $query i32) (param $vectors i32) (param $count i32) (param $dims i32)
    (param $out i32)
    (call $bytes_four (local.get $query) (local.get $vectors) (local.get $count) (local.get $dims) (local.get $out)
      (i32.const 0)))

  ;; out[j] (i32) = the number of bits in which bit-packed vector j differs from the query, $bytes each.
  (func (export "hamming") (param $query i32) (param $vectors i32) (param $count i32) (param $bytes i32)
    (param $out i32)
    (call $bytes_four (local.get $query) (local.get $vectors) (local.get $count) (local.get $bytes) (local.get $out)
      (i32.const 1)))

  ;; The sum of the four i32 lanes of $v.
  (func $lanes (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; dots_i8 ($hamming 0) and hamming ($hamming 1) over vectors of $width bytes: 16 bytes at a time, then
  ;; the tail one byte at a time. Four vectors are read side by side, as in dots_f32 (each load of the
  ;; query, and for dots_i8 its widening, serving all four): one vector at a time, a copy of the corpus
  ;; kept in memory was read at a third of the speed of a copy being streamed through the cache. In a last
  ;; group of fewer than four, the lanes past its end read its last vector again and store the same
  ;; integer in its slot. Sums of integers: any order gives the same result.
  (func $bytes_four (param $query i32) (param $vectors i32) (param $count i32) (param $width i32)
    (param $out i32) (param $hamming i32)
    (local $pa i32) (local $pb i32) (local $pc i32) (local $pd i32) (local $ob i32) (local $oc i32) (local $od i32)
    (local $q i32) (local $end i32) (local $body_end i32) (local $last i32) (local $m i32) (local $v i32)
    (local $ta i32) (local $tb i32) (local $tc i32) (local $td i32)
    (local $sa v128) (local $sb v128) (local $sc v128) (local $sd v128) (local $zero v128)
    (local $x v128) (local $lo v128) (local $hi v128)
    (block $done
      (loop $groups
        (br_if $done (i32.eqz (local.get $count)))
        ;; Lane k reads vector min(k, count - 1) of the group and stores into its slot.
        (local.set $pa (local.get $vectors))
        (local.set $last (i32.sub (local.get $count) (i32.const 1)))
        (local.set $m (select (i32.const 1) (local.get $last) (i32.lt_u (i32.const 1) (local.get $count))))
        (local.set $pb (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $width))))
        (local.set $ob (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $m (select (i32.const 2) (local.get $last) (i32.lt_u (i32.const 2) (local.get $count))))
        (local.set $pc (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $width))))
        (local.set $oc (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $m (select (i32.const 3) (local.get $last) (i32.lt_u (i32.const 3) (local.get $count))))
        (local.set $pd (i32.add (local.get $pa) (i32.mul (local.get $m) (local.get $width))))
        (local.set $od (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $end (i32.add (local.get $pa) (local.get $width)))
        (local.set $body_end (i32.sub (local.get $end) (i32.and (local.get $width) (i32.const 15))))
        (local.set $sa (local.get $zero)) (local.set $sb (local.get $zero))
        (local.set $sc (local.get $zero)) (local.set $sd (local.get $zero))
        (local.set $q (local.get $query))
        (block $blocks_done
          (loop $blocks
            (br_if $blocks_done (i32.ge_u (local.get $pa) (local.get $body_end)))
            (if (local.get $hamming)
              (then
                (local.set $x (v128.load (local.get $q)))
                (local.set $sa (i32x4.add (local.get $sa) (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u
                  (i8x16.popcnt (v128.xor (v128.load (local.get $pa)) (local.get $x)))))))
                (local.set $sb (i32x4.add (local.get $sb) (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u
                  (i8x16.popcnt (v128.xor (v128.load (local.get $pb)) (local.get $x)))))))
                (local.set $sc (i32x4.add (local.get $sc) (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u
                  (i8x16.popcnt (v128.xor (v128.load (local.get $pc)) (local.get $x)))))))
                (local.set $sd (i32x4.add (local.get $sd) (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u
                  (i8x16.popcnt (v128.xor (v128.load (local.get $pd)) (local.get $x))))))))
              (else
                ;; Each half of 16 bytes loaded as eight i16, the query's once for the four.
                (local.set $lo (v128.load8x8_s (local.get $q)))
                (local.set $hi (v128.load8x8_s offset=8 (local.get $q)))
                (local.set $sa (i32x4.add (local.get $sa) (i32x4.add
                  (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $pa)) (local.get $lo))
                  (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $pa)) (local.get $hi)))))
                (local.set $sb (i32x4.add (local.get $sb) (i32x4.add
                  (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $pb)) (local.get $lo))
                  (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $pb)) (local.get $hi)))))
                (local.set $sc (i32x4.add (local.get $sc) (i32x4.add
                  (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $pc)) (local.get $lo))
                  (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $pc)) (local.get $hi)))))
                (local.set $sd (i32x4.add (local.get $sd) (i32x4.add
                  (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $pd)) (local.get $lo))
                  (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $pd)) (local.get $hi)))))))
            (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
            (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 16)))
            (local.set $pd (i32.add (local.get $pd) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br $blocks)))
        (local.set $ta (call $lanes (local.get $sa)))
        (local.set $tb (call $lanes (local.get $sb)))
        (local.set $tc (call $lanes (local.get $sc)))
        (local.set $td (call $lanes (local.get $sd)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $pa) (local.get $end)))
            (if (local.get $hamming)
              (then
                (local.set $v (i32.load8_u (local.get $q)))
                (local.set $ta (i32.add (local.get $ta) (i32.popcnt (i32.xor (i32.load8_u (local.get $pa)) (local.get $v)))))
                (local.set $tb (i32.add (local.get $tb) (i32.popcnt (i32.xor (i32.load8_u (local.get $pb)) (local.get $v)))))
                (local.set $tc (i32.add (local.get $tc) (i32.popcnt (i32.xor (i32.load8_u (local.get $pc)) (local.get $v)))))
                (local.set $td (i32.add (local.get $td) (i32.popcnt (i32.xor (i32.load8_u (local.get $pd)) (local.get $v))))))
              (else
                (local.set $v (i32.load8_s (local.get $q)))
                (local.set $ta (i32.add (local.get $ta) (i32.mul (i32.load8_s (local.get $pa)) (local.get $v))))
                (local.set $tb (i32.add (local.get $tb) (i32.mul (i32.load8_s (local.get $pb)) (local.get $v))))
                (local.set $tc (i32.add (local.get $tc) (i32.mul (i32.load8_s (local.get $pc)) (local.get $v))))
                (local.set $td (i32.add (local.get $td) (i32.mul (i32.load8_s (local.get $pd)) (local.get $v))))))
            (local.set $pa (i32.add (local.get $pa) (i32.const 1)))
            (local.set $pb (i32.add (local.get $pb) (i32.const 1)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
            (local.set $pd (i32.add (local.get $pd) (i32.const 1)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $tail)))
        (i32.store (local.get $out) (local.get $ta))
        (i32.store (local.get $ob) (local.get $tb))
        (i32.store (local.get $oc) (local.get $tc))
        (i32.store (local.get $od) (local.get $td))
        (local.set $vectors (i32.add (local.get $vectors) (i32.shl (local.get $width) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $count
          (select (i32.sub (local.get $count) (i32.const 4)) (i32.const 0) (i32.gt_u (local.get $count) (i32.const 4))))
        (br $groups))))
)
