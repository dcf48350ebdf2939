import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { type Cassette, type CassetteInteraction, scrubCassette } from '../src/index.js';

const KEY = 'qk-live-SECRET/abc+123=';

function recording(
  inputs: string[],
  interactions: CassetteInteraction[],
  overrides: Partial<Cassette> = {},
): Cassette {
  return {
    version: 1,
    name: 'recorded',
    source: 'recorded',
    call: { modelId: 'm', inputs },
    interactions,
    expect: { embeddings: { count: inputs.length, dimensions: 2 }, usage: null },
    ...overrides,
  };
}

const exchange = (
  body: unknown,
  response: CassetteInteraction['response'],
  path = '/v1/embeddings',
): CassetteInteraction => ({ request: { method: 'POST', path, body }, response });

describe('scrubCassette', () => {
  it('leaves inputs that look like credentials as they are, in the call and in the request body', () => {
    const inputs = [
      'SELECT * FROM t WHERE key=42',
      'the promo code=SUMMER24 is valid',
      'Bearer of bad news',
      'reset link: https://example.com/reset?token=abc123',
      'ssh://alice:hunter2@host',
    ];
    const cassette = recording(inputs, [exchange({ texts: inputs }, { status: 200, body: { ok: true } })]);
    const scrubbed = scrubCassette(cassette, [KEY]);
    expect(scrubbed.call.inputs).toEqual(inputs);
    expect(scrubbed.interactions[0]!.request.body).toEqual({ texts: inputs });
  });

  it('removes the key wherever a value holds it, inputs included, in its encoded forms too', () => {
    const inputs = [`my key is ${KEY}`, 'pets'];
    const cassette = recording(inputs, [
      exchange(
        { texts: inputs },
        {
          status: 200,
          headers: { 'x-echo': encodeURIComponent(KEY) },
          body: { note: `seen ${JSON.stringify(KEY).slice(1, -1).replace('/', '\\/')}`, results: [] },
        },
      ),
    ]);
    const scrubbed = scrubCassette(cassette, [KEY]);
    const text = JSON.stringify(scrubbed);
    expect(text).not.toContain('qk-live-SECRET');
    expect(text).not.toContain(encodeURIComponent(KEY));
    expect(scrubbed.call.inputs).toEqual(['my key is [REDACTED]', 'pets']);
    expect(scrubbed.interactions[0]!.request.body).toEqual({ texts: ['my key is [REDACTED]', 'pets'] });
  });

  it('never touches vectors that do not hold the key, whatever credential patterns their text has', () => {
    const base64 = `${'A'.repeat(2727)}/key=`;
    const floats = [0.0123456789, -0.98761234, 0.5];
    const cassette = recording(
      ['x'],
      [exchange({ texts: ['x'] }, { status: 200, body: { results: [{ i: 0, vec: base64 }], floats } })],
    );
    for (const secrets of [['an-unrelated-key-1234'], ['1234'], ['none']]) {
      const scrubbed = scrubCassette(cassette, secrets);
      expect(scrubbed.interactions[0]!.response.body).toEqual({ results: [{ i: 0, vec: base64 }], floats });
    }
  });

  it('removes a short local key (none, test, 1234) only where it is a whole value, and always gives JSON', () => {
    for (const key of ['none', 'test', '1234']) {
      const inputs = ['a test of the none-such API', 'unit test 1234'];
      const cassette = recording(inputs, [
        exchange(
          { texts: inputs, user: key },
          {
            status: 401,
            headers: { 'x-echo': `Bearer ${key}` },
            body: { error: { message: `invalid key ${key}` }, embedding: [0.12341234, 1234] },
          },
          `/v1/embeddings?key=${key}`,
        ),
      ]);
      const scrubbed = scrubCassette(cassette, [key]);
      expect(JSON.parse(JSON.stringify(scrubbed))).toEqual(scrubbed);
      expect(scrubbed.call.inputs).toEqual(inputs);
      const [interaction] = scrubbed.interactions;
      expect(interaction!.request.body).toEqual({ texts: inputs, user: '[REDACTED]' });
      expect(interaction!.request.path).toBe('/v1/embeddings?key=[REDACTED]');
      expect(interaction!.response.headers).toEqual({ 'x-echo': 'Bearer [REDACTED]' });
      expect((interaction!.response.body as { embedding: number[] }).embedding).toEqual([0.12341234, 1234]);
    }
  });

  it('redacts credential patterns where credentials live: the path, the headers, error answers and messages', () => {
    const cassette = recording(
      ['pets'],
      [
        exchange(
          { texts: ['pets'] },
          {
            status: 400,
            headers: { 'x-upstream': 'https://user:pass@proxy.example/?sig=abcdef' },
            body: '<html>GET /v1?api_key=leaked-value failed</html>',
          },
          '/v1/embeddings?key=another-credential',
        ),
        exchange(
          { texts: ['pets'] },
          {
            status: 200,
            body: {
              operation: { error: { message: 'token=t0ps3cr3t was refused' } },
              data: [{ text: 'token=kept-in-data' }],
            },
          },
        ),
      ],
    );
    const [refused, answered] = scrubCassette(cassette, [KEY]).interactions;
    expect(refused!.request.path).toBe('/v1/embeddings?key=[REDACTED]');
    expect(refused!.response.headers).toEqual({
      'x-upstream': 'https://[REDACTED]@proxy.example/?sig=[REDACTED]',
    });
    expect(refused!.response.body).toBe('<html>GET /v1?api_key=[REDACTED] failed</html>');
    expect(answered!.response.body).toEqual({
      operation: { error: { message: 'token=[REDACTED] was refused' } },
      data: [{ text: 'token=kept-in-data' }],
    });
  });

  it('drops every credential and account header (core’s list) and keeps the request id and rate limits', () => {
    const headers = {
      'content-type': 'application/json',
      'Set-Cookie': 'session=s3ss10n-t0ken; HttpOnly',
      'x-auth-token': 'tok_7f3a9b2c1d',
      'x-session-token': 'sess_abcdef123456',
      'proxy-authorization': 'Basic dXNlcjpwYXNz',
      'x-amz-security-token': 'FwoGZXIvYXdzEJr',
      'ocp-apim-subscription-key': 'azure-sub-key-999',
      'x-api-key': 'qk-live-SECRET',
      'OpenAI-Organization': 'org-1',
      'openai-project': 'proj-1',
      'x-request-id': 'req-1',
      'x-ratelimit-remaining-tokens': '149990',
      'x-ratelimit-limit-requests': '3000',
    };
    const cassette = recording(
      ['x'],
      [
        exchange(
          { texts: ['x'] },
          {
            status: 200,
            headers,
            body: {
              access_token: 'eyJhbGciOi.payload.sig',
              nested: { refresh_token: 'rt_12345678', client_secret: 'cs-1' },
              metadata: { key: '0' },
              error: { code: 'invalid_api_key' },
              vec: float32ToBase64(new Float32Array([1, 2])),
            },
          },
        ),
      ],
    );
    const [interaction] = scrubCassette(cassette, ['qk-live-SECRET']).interactions;
    expect(interaction!.response.headers).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-1',
      'x-ratelimit-remaining-tokens': '149990',
      'x-ratelimit-limit-requests': '3000',
    });
    expect(interaction!.response.body).toEqual({
      access_token: '[REDACTED]',
      nested: { refresh_token: '[REDACTED]', client_secret: '[REDACTED]' },
      metadata: { key: '0' },
      error: { code: 'invalid_api_key' },
      vec: float32ToBase64(new Float32Array([1, 2])),
    });
  });

  it('scrubs the fields a recorder kept beyond the format: request headers, a url, a status text (bug: kept verbatim, the key with them)', () => {
    const request = {
      method: 'POST',
      path: '/v1/embeddings',
      url: `https://api.example.com/v1/embeddings?key=${KEY}`,
      headers: {
        Authorization: `Bearer ${KEY}`,
        Cookie: 'session=s3ss10n-t0ken',
        'content-type': 'application/json',
        'x-trace': `trace for ${KEY}`,
      },
      body: { texts: ['x'] },
    } as CassetteInteraction['request'];
    const response = {
      status: 401,
      statusText: `Unauthorized: Bearer ${KEY}`,
      headers: {
        'www-authenticate': `Bearer error_description="key ${KEY} revoked"`,
        'x-request-id': 'req-9',
      },
      body: { message: 'bad key' },
    } as CassetteInteraction['response'];
    const [interaction] = scrubCassette(recording(['x'], [{ request, response }]), [KEY]).interactions;
    expect(interaction).toEqual({
      request: {
        method: 'POST',
        path: '/v1/embeddings',
        url: 'https://api.example.com/v1/embeddings?key=[REDACTED]',
        headers: { 'content-type': 'application/json', 'x-trace': 'trace for [REDACTED]' },
        body: { texts: ['x'] },
      },
      response: {
        status: 401,
        statusText: 'Unauthorized: Bearer [REDACTED]',
        headers: { 'x-request-id': 'req-9' },
        body: { message: 'bad key' },
      },
    });
    expect(JSON.stringify(interaction)).not.toContain('s3ss10n');
  });
});
