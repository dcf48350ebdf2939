/**
 * A cassette that records a header the transport adds (or one that changes with every request) is
 * refused when it is read, naming the interaction, the header and why, rather than failing on one
 * transport only; and two values that differ only in a secret part are said to differ there, never shown
 * as two identical redacted texts.
 */
import { InvalidArgumentError } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import {
  bodyDifferences,
  type Cassette,
  checkCassette,
  headerDifferences,
  unrecordedRequestHeader,
} from '../src/index.js';
import { recordingHeaders as recordingWith, thrown } from './helpers.js';

const KEY = 'sk-fake-not-real-1111111111111111';

/** A cassette whose second interaction records `headers` beside its content type. */
const recordingHeaders = (headers: Record<string, string>): Cassette =>
  recordingWith({ 'content-type': 'application/json', ...headers });

/** Each header a recording leaves out, and the reason the refusal gives for it. */
const UNRECORDED: [string, string][] = [
  ['user-agent', 'it names the client and its version'],
  ['accept-encoding', 'each transport sets it its own way'],
  ['content-length', 'each transport sets it its own way'],
  ['transfer-encoding', 'each transport sets it its own way'],
  ['host', 'each transport sets it its own way'],
  ['connection', 'each transport sets it its own way'],
  ['keep-alive', 'each transport sets it its own way'],
  ['date', 'it changes with every request'],
  ['x-request-id', 'it changes with every request'],
  ['request-id', 'it changes with every request'],
  ['x-client-request-id', 'it changes with every request'],
  ['traceparent', 'it changes with every request'],
  ['tracestate', 'it changes with every request'],
  ['baggage', 'it changes with every request'],
];

describe('checkCassette and the headers a recording leaves out', () => {
  for (const [header, why] of UNRECORDED)
    it(`refuses a recorded ${header}, naming the interaction, the header and why`, () => {
      const error = thrown(() => checkCassette(recordingHeaders({ [header]: 'v' }), 'c.json'));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).code).toBe('invalid_argument');
      expect((error as Error).message).toBe(
        `c.json: interactions[1].request.headers records ${header}, which a cassette leaves out: ${why}, so a replay cannot count on it. Remove it from interactions[1].request.headers: the other headers are still compared (record mode never writes it).`,
      );
    });

  it('reads the name in any letter case', () => {
    const error = thrown(() => checkCassette(recordingHeaders({ 'User-Agent': 'embedkit/0.1.0' }), 'c.json'));
    expect((error as Error).message).toMatch(
      /^c\.json: interactions\[1\]\.request\.headers records User-Agent, which a cassette leaves out: it names the client and its version,/,
    );
  });

  it('keeps a cassette whose headers the provider itself sets', () => {
    const cassette = recordingHeaders({ 'acme-version': '2024-06-01', accept: 'application/json' });
    expect(checkCassette(cassette, 'c.json')).toBe(cassette);
  });

  it('gives the reason for each header it names, and none for another', () => {
    expect(UNRECORDED.map(([header]) => unrecordedRequestHeader(header))).toEqual(
      UNRECORDED.map(([, why]) => why),
    );
    expect(unrecordedRequestHeader('Traceparent')).toBe('it changes with every request');
    expect(unrecordedRequestHeader('content-type')).toBeUndefined();
  });
});

describe('two values that differ only where redaction hides them', () => {
  it('a header says the values differ in their secret part', () => {
    expect(
      headerDifferences(
        { headers: { authorization: 'Bearer sk-fake-not-real-recorded-0000' } },
        { authorization: `Bearer ${KEY}` },
      ),
    ).toEqual([
      'header authorization differs only in its secret part: recorded and sent both read "Bearer [REDACTED]" redacted',
    ]);
  });

  it('a header whose recorded text the given key redacts alike says so too', () => {
    expect(
      headerDifferences({ headers: { 'x-api-key': '[REDACTED]' } }, { 'x-api-key': KEY }, [KEY]),
    ).toEqual([
      'header x-api-key differs only in its secret part: recorded and sent both read "[REDACTED]" redacted',
    ]);
  });

  it('a body field says so the same way, and other differences still show both values', () => {
    expect(
      bodyDifferences(
        { token: 'Bearer sk-fake-not-real-recorded-0000', input: 'cat' },
        { token: `Bearer ${KEY}`, input: 'cow' },
      ),
    ).toEqual([
      'body.token differs only in its secret part: recorded and sent both read "Bearer [REDACTED]" redacted',
      'body.input: recorded "cat", sent "cow"',
    ]);
  });

  it('shows a secret no more when the redacted texts differ', () => {
    expect(
      headerDifferences({ headers: { authorization: 'Token abc' } }, { authorization: `Bearer ${KEY}` }),
    ).toEqual(['header authorization: recorded "Token abc", sent "Bearer [REDACTED]"']);
  });
});
