/**
 * Which fields the scrub reads as headers (the request's and response's own `headers` and `rawHeaders`
 * always, a field named like headers elsewhere only when it can hold headers), and what it does to the
 * fields of a batch job. Every key here is an obviously fake test value.
 */
import { describe, expect, it } from 'vitest';
import { type Cassette, scrubCassette } from '../src/index.js';
import { exchange, OK, recording, thrown } from './helpers.js';

const KEY = 'sk-fake-not-a-real-key-abc';

/** A recording of one exchange, with `fields` added to the cassette's own fields. */
const withOwnFields = (fields: Record<string, unknown>) =>
  ({ ...recording([exchange({ input: ['x'] }, OK)]), ...fields }) as unknown as Cassette;

/** The message `scrubCassette` refuses `cassette` with, checked to be an InvalidArgumentError of the cassette. */
function refusal(cassette: Cassette): string {
  const error = thrown(() => scrubCassette(cassette, [])) as Error & { argument?: string };
  expect([error.name, error.argument]).toStrictEqual(['InvalidArgumentError', 'cassette']);
  return error.message;
}

describe('scrubCassette: a field named like headers outside a request or response', () => {
  it('keeps a list of header names in a field of its own as it is', () => {
    const scrubbed = scrubCassette(
      withOwnFields({ notes: { headers: ['x-request-id'], rawHeaders: ['user-agent', 'x-b', 'x-c'] } }),
      [],
    ) as unknown as { notes: unknown };
    expect(scrubbed.notes).toStrictEqual({
      headers: ['x-request-id'],
      rawHeaders: ['user-agent', 'x-b', 'x-c'],
    });
  });

  it('refuses an even-length list whose items could all be header names when its pairs would drop some (bug: read as pairs, the names were dropped without a word)', () => {
    for (const [names, name] of [
      [['authorization', 'x-request-id'], 'authorization'],
      [['x-request-id', 'user-agent', 'cookie', 'retry-after'], 'cookie'],
    ] as const) {
      expect(refusal(withOwnFields({ notes: { headers: names } }))).toBe(
        `scrubCassette: the headers at notes.headers may be a list of header names or a flat list of names and values (each of its items reads as a header name, and ${name} is one a recording drops), so what to drop cannot be known; the recording is refused rather than written with names lost or a credential kept. Keep a list of header names in a field named otherwise.`,
      );
    }
  });

  it('keeps an even-length list of header names whose pairs would drop nothing as it is', () => {
    const scrubbed = scrubCassette(
      withOwnFields({ notes: { rawHeaders: ['x-request-id', 'authorization', 'user-agent', 'cookie'] } }),
      [],
    ) as unknown as { notes: unknown };
    expect(scrubbed.notes).toStrictEqual({
      rawHeaders: ['x-request-id', 'authorization', 'user-agent', 'cookie'],
    });
  });

  it('refuses a list that cannot be paired and names a credential header, naming its full path', () => {
    const message = refusal(
      withOwnFields({ notes: { capture: { rawHeaders: ['x-api-key', KEY, 'user-agent'] } } }),
    );
    expect(message).toBe(
      'scrubCassette: the headers at notes.capture.rawHeaders are a flat list of names and values with a value missing (item 2 has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.',
    );
    expect(message).not.toContain(KEY);
  });

  it('refuses a flat name followed by a { name, value } record of a credential header', () => {
    expect(
      refusal(withOwnFields({ notes: { headers: ['x-trace', { name: 'x-api-key', value: KEY }] } })),
    ).toBe(
      'scrubCassette: the headers at notes.headers are a flat list of names and values with a value missing (item 0 has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.',
    );
  });

  it('still drops the credential of real headers nested under a field it does not know', () => {
    const base = recording([exchange({ input: ['x'] }, OK)]);
    const cassette = {
      ...base,
      notes: { capture: { rawHeaders: ['x-api-key', KEY, 'user-agent', 'recorder/1.0'] } },
      interactions: [
        { ...base.interactions[0]!, trace: { sent: { headers: { 'X-Api-Key': KEY, 'x-team': 'a' } } } },
      ],
    } as unknown as Cassette;
    const scrubbed = scrubCassette(cassette, []) as unknown as {
      notes: unknown;
      interactions: { trace: unknown }[];
    };
    expect(scrubbed.notes).toStrictEqual({ capture: { rawHeaders: ['user-agent', 'recorder/1.0'] } });
    expect(scrubbed.interactions[0]!.trace).toStrictEqual({ sent: { headers: { 'x-team': 'a' } } });
    expect(JSON.stringify(scrubbed)).not.toContain(KEY);
  });
});

describe("scrubCassette: a request's or response's own headers", () => {
  it('refuses a flat list of an odd length even when it names no credential header, naming its full path', () => {
    const cassette = recording([
      { request: { method: 'POST', path: '/v1/embeddings', headers: ['x-request-id'] }, response: OK },
    ] as never);
    expect(refusal(cassette)).toBe(
      'scrubCassette: the headers at interactions[0].request.headers are a flat list of names and values with a value missing (item 0 has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.',
    );
  });

  it('drops a credential header kept as a { name, value } record, as HAR files keep headers', () => {
    const cassette = recording([
      {
        request: {
          method: 'POST',
          path: '/v1/embeddings',
          headers: [
            { name: 'X-Api-Key', value: KEY },
            { name: 'content-type', value: 'application/json' },
          ],
        },
        response: { ...OK, headers: [{ name: 'set-cookie', value: `session=${KEY}` }] },
      },
    ] as never);
    const [interaction] = scrubCassette(cassette, []).interactions as unknown as {
      request: { headers: unknown };
      response: { headers: unknown };
    }[];
    expect(interaction!.request.headers).toStrictEqual([{ name: 'content-type', value: 'application/json' }]);
    expect(interaction!.response.headers).toStrictEqual([]);
  });
});

describe('scrubCassette: a batch job', () => {
  it('removes the key from a display name wherever it is, and keeps the state, model and job name', () => {
    const named = `nightly ${KEY}`;
    const job = (state: string) => ({
      name: 'batches/abc123',
      metadata: { model: 'models/gemini-embedding-001', displayName: named, state },
    });
    const cassette: Cassette = {
      version: 1,
      name: 'batch',
      source: 'recorded',
      call: { kind: 'batch', modelId: 'gemini-embedding-001', inputs: ['x'], displayName: named },
      interactions: [
        exchange(
          { batch: { model: 'models/gemini-embedding-001', displayName: named } },
          { status: 200, body: job('BATCH_STATE_PENDING') },
          '/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent',
        ),
        exchange(
          undefined,
          { status: 200, body: job('BATCH_STATE_SUCCEEDED') },
          '/v1beta/batches/abc123',
          'GET',
        ),
      ],
      expect: { embeddings: { count: 1, dimensions: 2 }, usage: null },
    };
    const scrubbed = scrubCassette(cassette, [KEY]);
    const redacted = 'nightly [REDACTED]';
    const answer = (state: string) => ({
      name: 'batches/abc123',
      metadata: { model: 'models/gemini-embedding-001', displayName: redacted, state },
    });
    expect(scrubbed.call.displayName).toBe(redacted);
    expect(scrubbed.interactions.map(({ request, response }) => [request.body, response.body])).toStrictEqual(
      [
        [
          { batch: { model: 'models/gemini-embedding-001', displayName: redacted } },
          answer('BATCH_STATE_PENDING'),
        ],
        [undefined, answer('BATCH_STATE_SUCCEEDED')],
      ],
    );
  });
});
