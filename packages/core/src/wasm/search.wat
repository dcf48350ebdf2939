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
