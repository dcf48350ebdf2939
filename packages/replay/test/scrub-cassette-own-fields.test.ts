/**
 * Headers a recorder keeps in the cassette's own fields (`call`, `expect`, a field of its own) are
 * dropped by name as in the interactions, and the other fields keep their text. Every key here is an
 * obviously fake test value.
 */
import { describe, expect, it } from 'vitest';
import { type Cassette, scrubCassette } from '../src/index.js';
import { exchange, OK, recording, thrown } from './helpers.js';

const KEY = 'sk-fake-not-a-real-key-abc';

describe("scrubCassette: headers in the cassette's own fields", () => {
  it('drops a bare x-api-key by name from headers under call, expect and a field a recorder added', () => {
    const base = recording([exchange({ input: ['x'] }, OK)]);
    const cassette = {
      ...base,
      call: { ...base.call, headers: { 'x-api-key': KEY, 'x-team': 'search' } },
      expect: {
        ...base.expect,
        raw: {
          headers: [
            ['X-Api-Key', KEY],
            ['x-request-id', 'req-1'],
          ],
        },
      },
      recorder: { rawHeaders: ['x-api-key', KEY, 'user-agent', 'recorder/1.0'], note: 'Bearer is a word' },
    } as unknown as Cassette;
    const scrubbed = scrubCassette(cassette, []) as unknown as Record<string, unknown>;
    expect(scrubbed).toStrictEqual({
      version: 1,
      name: 'recorded',
      source: 'recorded',
      call: { modelId: 'm', inputs: ['x'], headers: { 'x-team': 'search' } },
      expect: {
        embeddings: { count: 1, dimensions: 2 },
        usage: null,
        raw: { headers: [['x-request-id', 'req-1']] },
      },
      recorder: { rawHeaders: ['user-agent', 'recorder/1.0'], note: 'Bearer is a word' },
      interactions: [
        { request: { method: 'POST', path: '/v1/embeddings', body: { input: ['x'] } }, response: OK },
      ],
    });
  });

  it("refuses a flat list of headers missing a value in the cassette's own fields, naming where", () => {
    const cassette = {
      ...recording([exchange({ input: ['x'] }, OK)]),
      recorder: { rawHeaders: ['x-api-key', KEY, 'user-agent'] },
    } as unknown as Cassette;
    const error = thrown(() => scrubCassette(cassette, [])) as Error & { argument?: string };
    expect([error.name, error.argument, error.message]).toStrictEqual([
      'InvalidArgumentError',
      'cassette',
      'scrubCassette: the headers at recorder.rawHeaders are a flat list of names and values with a value missing (item 2 has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.',
    ]);
  });

  it('redacts a key a 2xx body or a field of its own echoes base64-encoded', () => {
    const echoed = Buffer.from(`Authorization: Bearer ${KEY}`).toString('base64');
    const base = recording([
      exchange({ input: ['x'] }, { ...OK, body: { ...(OK.body as object), echo: echoed } }),
    ]);
    const cassette = { ...base, description: `the gateway echoed ${echoed}` } as unknown as Cassette;
    const text = JSON.stringify(scrubCassette(cassette, [KEY]));
    // The groups of the encoded text that hold only the key's bytes are gone; so is every other form.
    for (const form of [KEY, echoed, echoed.slice(12, -4)]) expect(text).not.toContain(form);
    expect(text).toContain('[REDACTED]');
  });
});
