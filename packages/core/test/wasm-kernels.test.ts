import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseLargeMemory, setWebAssemblyEnabled, WORK_START, wasmKernels } from '../src/wasm/kernels.js';
import { KERNELS_WASM } from '../src/wasm/kernels-bytes.js';

describe('the WebAssembly kernels module', () => {
  afterEach(() => setWebAssemblyEnabled(true));

  it('is exactly what kernels.wat compiles to with wabt from npm (the build writes it; CI can check it)', () => {
    const script = fileURLToPath(new URL('../scripts/build-wasm.mjs', import.meta.url));
    // Exits non-zero, and so throws, when src/wasm/kernels-bytes.ts differs from a fresh compile.
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('stays under 4 KB, so browsers compile it synchronously on the main thread', () => {
    expect(atob(KERNELS_WASM).length).toBeLessThan(4096);
  });

  it('instantiates once and serves every caller the same instance, with its tables written', () => {
    const kernels = wasmKernels();
    expect(kernels).toBeDefined();
    expect(wasmKernels()).toBe(kernels);
    // 1e22 as the parser reads it, and 10^16 among the integer powers.
    expect(kernels!.doubles[22]).toBe(1e22);
    expect(new DataView(kernels!.bytes.buffer).getBigUint64(192 + 16 * 8, true)).toBe(10n ** 16n);
    expect(WORK_START).toBeGreaterThanOrEqual(336 + 17 * 16);
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

  it('can be switched off, so that tests prove the JavaScript twins', () => {
    setWebAssemblyEnabled(false);
    expect(wasmKernels()).toBeUndefined();
    setWebAssemblyEnabled(true);
    expect(wasmKernels()).toBeDefined();
  });
});
