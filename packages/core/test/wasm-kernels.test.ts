import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/engine/clock.js';
import { webAssemblyKernelsLoaded } from '../src/testing.js';
import { allFinite } from '../src/vectors.js';
import {
  KERNEL_LAYOUT,
  releaseLargeMemory,
  setWebAssemblyEnabled,
  WORK_START,
  wasmKernels,
} from '../src/wasm/kernels.js';
import { KERNELS_WASM, SEARCH_WASM } from '../src/wasm/kernels-bytes.js';
import { instancesShortOfMemory } from './helpers.js';

describe('the WebAssembly kernels module', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('is exactly what kernels.wat and search.wat compile to with wabt from npm (the build writes it; CI can check it)', () => {
    const script = fileURLToPath(new URL('../scripts/build-wasm.mjs', import.meta.url));
    // Exits non-zero, and so throws, when src/wasm/kernels-bytes.ts differs from a fresh compile.
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('keeps each module under 4 KB, so browsers compile them synchronously on the main thread', () => {
    expect(atob(KERNELS_WASM).length).toBeLessThan(4096);
    expect(atob(SEARCH_WASM).length).toBeLessThan(4096);
  });

  it('runs the search kernels on the kernels’ own memory: what one module writes, the other reads', () => {
    const kernels = wasmKernels()!;
    // Two vectors of 8 floats and an f64 query of ones, written through the shared views.
    const queryAt = WORK_START;
    const vectorsAt = queryAt + 64;
    const outAt = vectorsAt + 64;
    kernels.reserve(outAt + 16);
    kernels.doubles.fill(1, queryAt / 8, queryAt / 8 + 8);
    kernels.floats.set([1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, -1, -1, -1, -1, -1.5], vectorsAt / 4);
    kernels.exports.dots_f32(queryAt, vectorsAt, 2, 8, outAt);
    expect([...kernels.doubles.subarray(outAt / 8, outAt / 8 + 2)]).toEqual([36, -8.5]);
    // And after the memory grows (the views are renewed; both modules see the new pages).
    kernels.reserve(kernels.bytes.length + 65_536);
    const farAt = kernels.bytes.length - 256;
    kernels.doubles.fill(2, farAt / 8, farAt / 8 + 8);
    kernels.floats.fill(0.5, farAt / 4 + 16, farAt / 4 + 24);
    kernels.exports.dots_f32(farAt, farAt + 64, 1, 8, farAt + 128);
    expect(kernels.doubles[(farAt + 128) / 8]).toBe(8);
  });

  it('webAssemblyKernelsLoaded (from @embedkit/core/testing) says whether the kernels serve: here yes; switched off, no', () => {
    expect(webAssemblyKernelsLoaded()).toBe(true);
    setWebAssemblyEnabled(false);
    expect(webAssemblyKernelsLoaded()).toBe(false);
  });

  it('instantiates once and serves every caller the same instance, with its tables written', () => {
    const kernels = wasmKernels();
    expect(kernels).toBeDefined();
    expect(wasmKernels()).toBe(kernels);
    const { powers, integerPowers, align, masks } = KERNEL_LAYOUT;
    // 1e22 as the parser reads it, and 10^16 among the integer powers.
    expect(kernels!.doubles[powers.at / 8 + 22]).toBe(1e22);
    expect(new DataView(kernels!.bytes.buffer).getBigUint64(integerPowers.at + 16 * 8, true)).toBe(
      10n ** 16n,
    );
    // The swizzle for 3 bytes: 13 zeros, then bytes 0, 1 and 2; the mask for 3 bytes: 3 ones, 13 zeros.
    expect([...kernels!.bytes.subarray(align.at + 3 * 16, align.at + 4 * 16)]).toEqual([
      ...Array(13).fill(255),
      0,
      1,
      2,
    ]);
    expect([...kernels!.bytes.subarray(masks.at + 3 * 16, masks.at + 4 * 16)]).toEqual([
      ...Array(3).fill(255),
      ...Array(13).fill(0),
    ]);
  });

  it('lays its tables out below WORK_START, apart, at the offsets kernels.wat reads', () => {
    const regions = Object.values(KERNEL_LAYOUT).sort((a, b) => a.at - b.at);
    for (let index = 1; index < regions.length; index++)
      expect(regions[index]!.at).toBeGreaterThanOrEqual(regions[index - 1]!.at + regions[index - 1]!.bytes);
    expect(regions.at(-1)!.at + regions.at(-1)!.bytes).toBeLessThanOrEqual(WORK_START);
    // Every fixed address in the module (a load's offset, or a constant passed as an address) falls inside
    // a region declared here: a table moved in one file and not the other fails.
    const source = readFileSync(fileURLToPath(new URL('../src/wasm/kernels.wat', import.meta.url)), 'utf8');
    const addresses = [
      ...[...source.matchAll(/offset=(\d+)/g)].map((match) => Number(match[1])).filter((at) => at >= 64),
      ...[
        ...source.matchAll(
          /\((?:v128\.store|memory\.copy|call \$base64_block) \(i32\.const (\d+)\)(?: \(i32\.const (\d+)\))?/g,
        ),
      ]
        .flatMap((match) => [match[1], match[2]])
        .filter((at) => at !== undefined)
        .map(Number),
    ];
    const inside = (at: number, region: { at: number; bytes: number }) =>
      at >= region.at && at < region.at + region.bytes;
    for (const at of addresses) expect(regions.some((region) => inside(at, region))).toBe(true);
    // And every region but the powers of ten (read at computed addresses from 0) is one the module names.
    for (const [name, region] of Object.entries(KERNEL_LAYOUT))
      if (name !== 'powers') expect(addresses.some((at) => inside(at, region))).toBe(true);
  });

  it('hands memory above 32 MB back: the next caller gets a fresh, small instance', () => {
    const kernels = wasmKernels()!;
    kernels.reserve(40 * 1024 * 1024);
    expect(kernels.bytes.length).toBeGreaterThanOrEqual(40 * 1024 * 1024);
    releaseLargeMemory();
    const fresh = wasmKernels()!;
    expect(fresh).not.toBe(kernels);
    expect(fresh.bytes.length).toBeLessThan(1024 * 1024);
    // Small memory is kept.
    releaseLargeMemory();
    expect(wasmKernels()).toBe(fresh);
  });

  it('a moment short of memory does not turn the kernels off: they stand down a second, then come back', () => {
    // Bug: any failed instantiation marked the kernels unavailable for the life of the process, so one
    // remade after releaseLargeMemory while memory was short never came back.
    wasmKernels()!.reserve(40 * 1024 * 1024);
    releaseLargeMemory();
    const instance = instancesShortOfMemory();
    const now = systemClock.now();
    const clock = vi.spyOn(systemClock, 'now').mockReturnValue(now);
    try {
      expect(wasmKernels()).toBeUndefined();
      // Within the second, no new attempt (each would cost a failed allocation).
      clock.mockReturnValue(now + 999);
      expect(wasmKernels()).toBeUndefined();
      expect(instance).toHaveBeenCalledTimes(1);
      instance.mockRestore();
      clock.mockReturnValue(now + 1_001);
      const back = wasmKernels();
      expect(back).toBeDefined();
      expect(back!.exports.all_finite).toBeTypeOf('function');
    } finally {
      instance.mockRestore();
      clock.mockRestore();
    }
  });

  it('allFinite: the kernel (long runs) and the JavaScript loop find a bad value at any position', () => {
    // 70,003 values: more than one quarter-megabyte chunk, and a tail that is not a whole block.
    const values = Float32Array.from({ length: 70_003 }, (_, index) => Math.sin(index) * 1e38);
    for (const enabled of [true, false]) {
      setWebAssemblyEnabled(enabled);
      expect(allFinite(values)).toBe(true);
      for (const position of [0, 15, 16, 65_535, 65_536, 69_999, 70_002]) {
        for (const bad of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
          const copy = values.slice();
          copy[position] = bad;
          expect(allFinite(copy), `${bad} at ${position} (WebAssembly ${enabled})`).toBe(false);
        }
      }
    }
    // The largest finite float32 and the smallest subnormal are finite.
    setWebAssemblyEnabled(true);
    expect(allFinite(new Float32Array(20_000).fill(3.4028234663852886e38))).toBe(true);
    expect(allFinite(new Float32Array(20_000).fill(-1.401298464324817e-45))).toBe(true);
  });

  it('allFinite: one embedding-sized vector, a view into a larger buffer included, on both paths', () => {
    // 255 values stay in JavaScript; from 256 the kernel checks a copy. A view must be read from its own
    // offset: the values before and after it in the buffer are infinite.
    for (const length of [255, 256, 257, 1_024, 3_072]) {
      const backing = new Float32Array(length + 8).fill(Number.POSITIVE_INFINITY);
      const vector = backing.subarray(4, 4 + length);
      vector.set(Float32Array.from({ length }, (_, index) => Math.cos(index) - 0.5));
      for (const enabled of [true, false]) {
        setWebAssemblyEnabled(enabled);
        expect(allFinite(vector), `${length} values (WebAssembly ${enabled})`).toBe(true);
        for (const position of [0, 3, 4, 15, 16, length >> 1, length - 2, length - 1]) {
          for (const bad of [Number.NEGATIVE_INFINITY, Number.NaN]) {
            const before = vector[position]!;
            vector[position] = bad;
            expect(allFinite(vector), `${bad} at ${position} of ${length} (WebAssembly ${enabled})`).toBe(
              false,
            );
            vector[position] = before;
          }
        }
      }
    }
    setWebAssemblyEnabled(true);
  });

  it('can be switched off, so that tests prove the JavaScript twins', () => {
    setWebAssemblyEnabled(false);
    expect(wasmKernels()).toBeUndefined();
    setWebAssemblyEnabled(true);
    expect(wasmKernels()).toBeDefined();
  });
});
