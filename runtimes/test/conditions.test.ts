import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RUNTIMES_ROOT } from './harness.js';

/** The transport core picks with no setting, in a Node process that resolves with `--conditions`. */
function defaultTransport(condition: string | undefined): string {
  const script =
    "const { createTransport } = await import('@embedkit/core/provider'); process.stdout.write(createTransport().kind);";
  return execFileSync(
    process.execPath,
    [...(condition === undefined ? [] : [`--conditions=${condition}`]), '--input-type=module', '-e', script],
    { cwd: RUNTIMES_ROOT, encoding: 'utf8' },
  );
}

// Node matches `node` too when given another condition, so each of these proves its own entry in
// core's `#default-transport` map comes before `node`.
describe("core's #default-transport export conditions", () => {
  it.each(['browser', 'worker', 'edge-light', 'bun', 'deno'])('%s gets the fetch transport', (condition) => {
    expect(defaultTransport(condition)).toBe('fetch');
  });

  it('node (and nothing else) gets undici', () => {
    expect(defaultTransport(undefined)).toBe('undici');
  });
});
