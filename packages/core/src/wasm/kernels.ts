/**
 * The WebAssembly kernels (kernels.wat, and search.wat on the same memory): compiled and instantiated
 * synchronously from embedded bytes on first use, so that importing core never waits, in ESM, CommonJS
 * or a browser. Where WebAssembly or its SIMD instructions are missing, or a content policy forbids
 * compiling, `wasmKernels()` is undefined and every caller uses its JavaScript twin, which gives the
 * same numbers.
 */

import { systemClock } from '../engine/clock.js';
import { KERNELS_WASM, SEARCH_WASM } from './kernels-bytes.js';

/** What core uses of the WebAssembly API (described here: Node's types and ES2023 do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmGlobal {
  value: number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

interface KernelExports {
  memory: WasmMemory;
  slow_count: WasmGlobal;
  /** The byte after the `]` the last `parse_array` found, or 0 when it found none before its end. */
  array_end: WasmGlobal;
  /** Elements parse_array has read the general way since the instance began (tests read it). */
  general_count: WasmGlobal;
  parse_array(start: number, end: number, out: number, limit: number, index: number, slow: number): number;
  all_finite(start: number, count: number): number;
  decode_base64(ranges: number, count: number, out: number, length: number): number;
  dots_f32(query: number, vectors: number, count: number, dims: number, out: number): void;
  squares_f32(vectors: number, count: number, dims: number, out: number): void;
  dots_i8(query: number, vectors: number, count: number, dims: number, out: number): void;
  hamming(query: number, vectors: number, count: number, bytes: number, out: number): void;
}

/**
 * The memory below `WORK_START`, at the offsets kernels.wat names: the tables the parser reads (written
 * once per instance) and the base64 decoder's scratch.
 */
export const KERNEL_LAYOUT = {
  /** 1e0..1e22 as doubles. */
  powers: { at: 0, bytes: 23 * 8 },
  /** 10^0..10^16 as 64-bit integers. */
  integerPowers: { at: 192, bytes: 17 * 8 },
  /** For n in 0..16, the swizzle that moves a vector's first n bytes to its end. */
  align: { at: 336, bytes: 17 * 16 },
  /** Two blocks for the last characters of a base64 string. */
  base64Scratch: { at: 608, bytes: 32 },
  /** For n in 0..16, a mask that keeps a vector's first n bytes. */
  masks: { at: 640, bytes: 17 * 16 },
} as const;
/** The first byte callers may lay out their data from. */
export const WORK_START = 1024;

/** A kernel instance and views over its memory, renewed whenever the memory grows. */
export interface Kernels {
  exports: KernelExports;
  bytes: Uint8Array;
  signedBytes: Int8Array;
  floats: Float32Array;
  doubles: Float64Array;
  integers: Int32Array;
  /** Grows the memory to hold at least `size` bytes, renewing the views. */
  reserve(size: number): void;
}

let kernels: Kernels | undefined;
let unavailable = false;
let enabled = true;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) out[index] = binary.charCodeAt(index);
  return out;
}

let compiled: { kernels: object; search: object } | undefined;

/**
 * One instance of each module, the search kernels on the kernels' memory: one memory, one layout, and
 * one object of exports for both.
 */
function instantiate(): Kernels {
  // Each small enough (under 4 KB; a test keeps them there) for synchronous compilation even on a
  // browser's main thread.
  compiled ??= {
    kernels: new WebAssembly.Module(decodeBase64(KERNELS_WASM)),
    search: new WebAssembly.Module(decodeBase64(SEARCH_WASM)),
  };
  const own = new WebAssembly.Instance(compiled.kernels, {}).exports as { memory: WasmMemory };
  const search = new WebAssembly.Instance(compiled.search, { kernels: { memory: own.memory } }).exports;
  const exports = { ...(own as object), ...(search as object) } as KernelExports;
  const out: Kernels = {
    exports,
    bytes: new Uint8Array(0),
    signedBytes: new Int8Array(0),
    floats: new Float32Array(0),
    doubles: new Float64Array(0),
    integers: new Int32Array(0),
    reserve(size: number) {
      const memory = exports.memory;
      const missing = size - memory.buffer.byteLength;
      if (missing > 0) memory.grow(Math.ceil(missing / 65_536));
      if (out.bytes.buffer !== memory.buffer) {
        const buffer = memory.buffer;
        out.bytes = new Uint8Array(buffer);
        out.signedBytes = new Int8Array(buffer);
        out.floats = new Float32Array(buffer);
        out.doubles = new Float64Array(buffer);
        out.integers = new Int32Array(buffer);
      }
    },
  };
  out.reserve(WORK_START);
  const { powers, integerPowers, align, masks } = KERNEL_LAYOUT;
  for (let exponent = 0; exponent <= 22; exponent++)
    out.doubles[powers.at / 8 + exponent] = Number(`1e${exponent}`);
  const view = new DataView(exports.memory.buffer);
  for (let exponent = 0; exponent <= 16; exponent++)
    view.setBigUint64(integerPowers.at + exponent * 8, 10n ** BigInt(exponent), true);
  // Index 16 + i - n picks byte i - (16 - n) of the source; indices of 16 or more read as zero.
  for (let run = 0; run <= 16; run++)
    for (let index = 0; index < 16; index++)
      out.bytes[align.at + run * 16 + index] = index + run < 16 ? 255 : index + run - 16;
  for (let run = 0; run <= 16; run++)
    for (let index = 0; index < 16; index++) out.bytes[masks.at + run * 16 + index] = index < run ? 255 : 0;
  return out;
}

/**
 * Until when (`systemClock` time, which never steps) no instance is tried after one failed for want of
 * memory.
 */
let shortOfMemoryUntil = 0;
/** How long the kernels stand down after an instance could not get its memory. */
const MEMORY_RETRY_MS = 1_000;

/**
 * An instance failed for want of memory (a RangeError; the process holds too many WebAssembly memories,
 * or too much memory, for now), not because the module cannot run here.
 */
function shortOfMemory(error: unknown): boolean {
  return error instanceof RangeError;
}

/** The kernels, instantiated on first use; undefined where WebAssembly (with SIMD) cannot run here. */
export function wasmKernels(): Kernels | undefined {
  if (!enabled || unavailable) return undefined;
  if (kernels === undefined) {
    // The shared instance is made again after `releaseLargeMemory`: a moment short of memory then must
    // not turn the kernels off for good, nor cost every call a failed allocation.
    if (systemClock.now() < shortOfMemoryUntil) return undefined;
    try {
      kernels = instantiate();
    } catch (error) {
      if (shortOfMemory(error)) {
        shortOfMemoryUntil = systemClock.now() + MEMORY_RETRY_MS;
        return undefined;
      }
      // No WebAssembly, no SIMD, or a policy without `wasm-unsafe-eval`: the JavaScript kernels serve.
      unavailable = true;
      return undefined;
    }
  }
  return kernels;
}

/**
 * A separate instance with its own memory, for data kept between calls (a search corpus); undefined
 * where the kernels cannot run or the memory cannot be had. Its memory is freed with it.
 */
export function newWasmKernels(size: number): Kernels | undefined {
  if (wasmKernels() === undefined) return undefined;
  try {
    const instance = instantiate();
    instance.reserve(size);
    return instance;
  } catch {
    // Out of memory for a copy this large: the caller streams instead.
    return undefined;
  }
}

/**
 * Turns the WebAssembly kernels off (false) or on again (true), for tests that prove the JavaScript
 * fallback gives the same answers. Not part of the public API.
 */
export function setWebAssemblyEnabled(value: boolean): void {
  enabled = value;
}

/**
 * Memory above this is handed back after a call (the instance is dropped and made again on next use),
 * so that one huge response does not pin its size for the life of the process.
 */
const KEEP_BYTES = 32 * 1024 * 1024;

/** Drops the instance when its memory has grown past what is worth keeping. */
export function releaseLargeMemory(): void {
  if (kernels !== undefined && kernels.exports.memory.buffer.byteLength > KEEP_BYTES) kernels = undefined;
}
