import { afterEach, expect, it, vi } from 'vitest';
import { documents, formatDemo, runDemo } from '../src/demo.js';

it('replays the cassette with no key and ranks the pet sentences first', async () => {
  const result = await runDemo({});
  expect(result.mode).toBe('replay');
  expect(result.ranked.map((entry) => entry.document)).toEqual([
    'Dogs are loyal companions',
    'The cat sat on the mat',
    'The weather is sunny today',
    'Machine learning models require training data',
    'Python is a programming language',
  ]);
  expect(result.ranked.map((entry) => Number(entry.score.toFixed(4)))).toEqual([
    0.6577, 0.5486, 0.0681, 0.0546, -0.0186,
  ]);
  expect(result.usage).toEqual({ inputTokens: 35 });
  expect(new Set(result.ranked.map((entry) => entry.document))).toEqual(new Set(documents));
});

it('replays even with a key when EMBEDKIT_REPLAY=1, and says which it did', async () => {
  const result = await runDemo({ OPENAI_API_KEY: 'sk-not-used', EMBEDKIT_REPLAY: '1' });
  const lines = formatDemo(result);
  expect(lines[0]).toBe(
    'embedkit semantic search — replaying a recorded exchange (EMBEDKIT_REPLAY=1 is set: unset it to run live)',
  );
  expect(lines[2]).toBe('  1. 0.6577  Dogs are loyal companions');
});

it('with no key, says that no key is set', async () => {
  const lines = formatDemo(await runDemo({}));
  expect(lines[0]).toBe(
    'embedkit semantic search — replaying a recorded exchange (no API key set: set OPENAI_API_KEY or ONEROUTER_API_KEY to run live)',
  );
});

afterEach(() => {
  vi.unstubAllEnvs();
});

// bug: the replay took the API root from OPENAI_BASE_URL, so a shell that points OpenAI's clients at a
// gateway sent the demo's requests there, and the demo failed with "did not use every recorded exchange".
it('replays the recording whatever OPENAI_BASE_URL says', async () => {
  vi.stubEnv('OPENAI_BASE_URL', 'https://gateway.example/v1');
  const result = await runDemo({});
  expect(result.mode).toBe('replay');
  expect(result.ranked[0]!.document).toBe('Dogs are loyal companions');
});
