/**
 * Headers a recorder keeps in shapes beyond an object or a list: a `Map` (and a `Headers`), written back
 * as an object of names; headers nested under other fields of an exchange (`raw.headers`, Node's
 * `rawHeaders`), dropped by name as at the top; and a flat list of names and values missing a value,
 * refused rather than paired wrongly. Every key here is an obviously fake test value.
 */
import { describe, expect, it } from 'vitest';
import { type CassetteInteraction, scrubCassette } from '../src/index.js';
import { OK, recording, thrown } from './helpers.js';

const KEY = 'sk-fake-not-a-real-key-abc';

/** `interaction` scrubbed with no secret given, and the cassette's text as it would be written. */
function scrubbed(interaction: object): { interaction: Record<string, unknown>; file: string } {
  const cassette = scrubCassette(recording([interaction as CassetteInteraction]), []);
  return {
    interaction: cassette.interactions[0] as unknown as Record<string, unknown>,
    file: JSON.stringify(cassette, null, 2),
  };
}

const request = { method: 'POST', path: '/v1/embeddings', body: { input: ['x'] } };

describe('scrubCassette: headers kept as a Map or a Headers', () => {
  it('drops the credential headers of a Map and writes its other entries as an object of names', () => {
    const headers = new Map([
      ['x-api-key', KEY],
      ['content-type', 'application/json'],
      ['x-request-id', 'req-7'],
    ]);
    const { interaction, file } = scrubbed({
      request: { ...request, headers },
      response: { ...OK, headers },
    });
    expect((interaction.request as { headers: unknown }).headers).toStrictEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-7',
    });
    expect((interaction.response as { headers: unknown }).headers).toStrictEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-7',
    });
    expect(file).not.toContain(KEY);
  });

  it('drops the credential headers of a Headers and writes its other entries as an object of names', () => {
    const headers = new Headers({ Authorization: `Bearer ${KEY}`, 'X-Request-Id': 'req-8' });
    const { interaction, file } = scrubbed({ request, response: { ...OK, headers } });
    expect((interaction.response as { headers: unknown }).headers).toStrictEqual({
      'x-request-id': 'req-8',
    });
    expect(file).not.toContain(KEY);
  });
});

describe('scrubCassette: headers nested under other fields of an exchange', () => {
  it('drops credential headers by name under raw.headers of the response, of the request and of the exchange', () => {
    const raw = { headers: { 'x-api-key': KEY, 'x-request-id': 'req-9' }, statusText: 'OK' };
    const { interaction, file } = scrubbed({
      request: { ...request, raw },
      response: { ...OK, raw },
      raw,
    });
    const kept = { headers: { 'x-request-id': 'req-9' }, statusText: 'OK' };
    expect((interaction.request as { raw: unknown }).raw).toStrictEqual(kept);
    expect((interaction.response as { raw: unknown }).raw).toStrictEqual(kept);
    expect(interaction.raw).toStrictEqual(kept);
    expect(file).not.toContain(KEY);
  });

  it("drops credential headers by name from Node's flat rawHeaders list", () => {
    const { interaction, file } = scrubbed({
      request,
      response: { ...OK, rawHeaders: ['x-goog-api-key', KEY, 'x-request-id', 'req-10'] },
    });
    expect((interaction.response as { rawHeaders: unknown }).rawHeaders).toStrictEqual([
      'x-request-id',
      'req-10',
    ]);
    expect(file).not.toContain(KEY);
  });
});

describe('scrubCassette: a flat list of names and values with a value missing', () => {
  it('refuses the recording, naming where, rather than writing the key under a harmless name', () => {
    const error = thrown(() =>
      scrubbed({
        request,
        response: { ...OK, headers: ['content-type', 'x-api-key', KEY, 'x-request-id', 'req-7'] },
      }),
    ) as Error & { argument?: string };
    expect([error.name, error.argument, error.message]).toStrictEqual([
      'InvalidArgumentError',
      'cassette',
      'scrubCassette: the headers at interactions[0].response.headers are a flat list of names and values with a value missing (item 4 has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.',
    ]);
    expect(error.message).not.toContain(KEY);
  });

  it('refuses a flat run of an odd length between [name, value] pairs, nested under raw.headers', () => {
    const error = thrown(() =>
      scrubbed({
        request: {
          ...request,
          raw: { headers: [['content-type', 'application/json'], 'x-api-key', ['x-request-id', 'req-7']] },
        },
        response: OK,
      }),
    ) as Error;
    expect(error.message).toBe(
      'scrubCassette: the headers at interactions[0].request.raw.headers are a flat list of names and values with a value missing (item 1 has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.',
    );
  });
});
