// The PASS/FAIL lines of the peer run, fed made-up measurements: a target over "every cell" fails when a
// cell has no valid figure, and a rate-limit target that need not finish still fails a run that failed.

import { describe, expect, it } from 'vitest';
import { targets } from '../src/run.mjs';

const small = { inputs: 10_000, dimensions: 1_024, batch: 128 };
const large = { inputs: 10_000, dimensions: 3_072, batch: 128 };
const row = (client, cell, cpuMsPer1000, extra = {}) => ({
  client,
  wire: 'openai',
  cell,
  cpuMsPer1000,
  ...extra,
});
const floatTarget = (rows) =>
  targets(rows, {}, undefined, undefined).find((goal) => goal.name.startsWith('OpenAI float'));

describe('targets', () => {
  const base64 = [row('embedkit-base64', small, 20), row('embedkit-base64', large, 40)];

  it('passes the float target when every cell is within 2x, and takes the worst cell', () => {
    const goal = floatTarget([...base64, row('embedkit-float', small, 38), row('embedkit-float', large, 60)]);
    expect(goal.status).toBe('PASS');
    expect(goal.value).toBeCloseTo(1.9);
    expect(
      floatTarget([...base64, row('embedkit-float', small, 38), row('embedkit-float', large, 81)]).status,
    ).toBe('FAIL');
  });

  it('holds the AI SDK user over toAISDK to 3x less CPU than over @ai-sdk/openai in every cell', () => {
    const interop = (embedkit) =>
      targets(
        [
          ...base64,
          row('ai-sdk-openai', small, 300),
          row('ai-sdk-openai', large, 900),
          row('ai-sdk-embedkit', small, 60),
          row('ai-sdk-embedkit', large, embedkit),
        ],
        {},
        undefined,
        undefined,
      ).find((goal) => goal.name.startsWith('AI SDK user'));
    const met = interop(250);
    expect([met.issue, met.status, met.value]).toEqual([15, 'PASS', 3.6]);
    expect(met.detail).toBe(
      'worst 3.60x at 10k x 3072, calls of 128; geometric mean 4.24x over 2 cells; 2/2 cells meet it',
    );
    expect([interop(301).status, interop(301).value]).toEqual(['FAIL', 900 / 301]);
  });

  it('fails the float target when a cell errored instead of dropping it', () => {
    const goal = floatTarget([
      ...base64,
      row('embedkit-float', small, 38),
      { client: 'embedkit-float', wire: 'openai', cell: large, error: 'crashed' },
    ]);
    expect(goal.status).toBe('FAIL');
    expect(goal.detail).toContain('not measured');
  });

  it('fails the float target when a cell returned wrong vectors', () => {
    const goal = floatTarget([
      ...base64,
      row('embedkit-float', small, 38),
      row('embedkit-float', large, 41, { problem: 'vector 7 differs' }),
    ]);
    expect(goal.status).toBe('FAIL');
  });

  it('fails the Gemini rate-limit target for a run that failed after spending its first bucket', () => {
    const tokensPerMinute = 900_000;
    const failed = {
      target: 'gemini',
      completed: false,
      failure: '429 after 10 retries',
      wallMs: 8_000,
      requests: 300,
      rateLimited: 40,
      tokens: tokensPerMinute,
      share: 1 / (1 + 8 / 60),
    };
    const gemini = (run) =>
      targets([], {}, undefined, { rows: [run] }).find((goal) => goal.name.startsWith('Gemini (no usage'));
    expect(gemini(failed).status).toBe('FAIL');
    expect(gemini({ ...failed, failure: undefined, timedOut: true }).status).toBe('PASS');
  });
});
