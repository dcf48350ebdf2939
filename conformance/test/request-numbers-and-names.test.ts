/**
 * How the interceptor numbers the requests it answers, through both transports, when identical requests
 * are sent at once; and how a failure names a request or an expectation whose path is empty.
 */
import { createTransport } from '@embedkit/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { acmeCassettes } from '../mutants/cassettes.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { replayCassette } from '../src/cassettes.js';
import { createInterceptor, type Interceptor, nameRequest, TRANSPORT_KINDS } from '../src/interceptor.js';

const ORIGIN = 'https://api.acme.test';
let open: Interceptor | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

function send(interceptor: Interceptor, method: 'GET' | 'POST', path: string, body?: string) {
  const transport = createTransport(interceptor.transport);
  return transport.request({
    url: `${ORIGIN}${path}`,
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
    maxResponseBytes: 1 << 20,
  });
}

describe('identical requests sent at once', () => {
  for (const kind of TRANSPORT_KINDS) {
    for (const [method, body] of [
      ['POST', '{"input":["same"]}'],
      ['GET', undefined],
    ] as const) {
      it(`each gets its own number, 1 and 2 of 2 [${kind}, ${method}]`, async () => {
        const interceptor = createInterceptor(kind, ORIGIN);
        open = interceptor;
        interceptor.expect(method, '/v1/jobs/1', () => ({ status: 200, body: { ok: true } }), { times: 2 });
        const answers = await Promise.all([
          send(interceptor, method, '/v1/jobs/1', body),
          send(interceptor, method, '/v1/jobs/1', body),
        ]);
        expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
        expect(interceptor.sent()).toBe(2);
        expect(interceptor.requests.map((request) => request.number).sort()).toEqual([1, 2]);
      });
    }
  }
});

describe('a request sent again after the first one failed unanswered', () => {
  for (const kind of TRANSPORT_KINDS) {
    it(`is numbered 2 after a connection reset [${kind}]`, async () => {
      const interceptor = createInterceptor(kind, ORIGIN);
      open = interceptor;
      const ok = () => ({ status: 200, body: { ok: true } });
      interceptor.expect('POST', '/v1/embeddings', ok, { connectionError: 'reset' });
      interceptor.expect('POST', '/v1/embeddings', ok);
      const body = '{"input":["same"]}';
      await expect(send(interceptor, 'POST', '/v1/embeddings', body)).rejects.toThrow();
      await send(interceptor, 'POST', '/v1/embeddings', body);
      expect(interceptor.requests.map((request) => request.number)).toEqual([2]);
    });

    it(`keeps 1 for a reset sent alongside an identical request answered, 2 and 3 for the others [${kind}]`, async () => {
      const interceptor = createInterceptor(kind, ORIGIN);
      open = interceptor;
      const ok = () => ({ status: 200, body: { ok: true } });
      interceptor.expect('POST', '/v1/embeddings', ok, { connectionError: 'reset' });
      interceptor.expect('POST', '/v1/embeddings', ok, { times: 2 });
      const body = '{"input":["same"]}';
      const [reset, answered] = await Promise.allSettled([
        send(interceptor, 'POST', '/v1/embeddings', body),
        send(interceptor, 'POST', '/v1/embeddings', body),
      ]);
      expect([reset.status, answered.status]).toEqual(['rejected', 'fulfilled']);
      await send(interceptor, 'POST', '/v1/embeddings', body);
      expect(interceptor.requests.map((request) => request.number)).toEqual([2, 3]);
    });

    it(`is numbered 2 after the mocks refused the first [${kind}]`, async () => {
      const interceptor = createInterceptor(kind, ORIGIN);
      open = interceptor;
      const body = '{"input":["same"]}';
      await expect(send(interceptor, 'POST', '/v1/embeddings', body)).rejects.toThrow();
      await interceptor.settled();
      interceptor.expect('POST', '/v1/embeddings', () => ({ status: 200, body: { ok: true } }));
      await send(interceptor, 'POST', '/v1/embeddings', body);
      expect(interceptor.requests.map((request) => request.number)).toEqual([2]);
      expect(interceptor.strays().map((stray) => stray.number)).toEqual([1]);
    });
  }
});

describe('a request or an expectation named with an empty path', () => {
  it('says there is no path, rather than leaving a method alone before the parenthesis closes', () => {
    expect(nameRequest({ number: 1, method: 'POST', target: '' }, 2)).toBe(
      'request 1 of 2 (POST with no path)',
    );
    expect(nameRequest({ number: 1, method: 'POST', target: '/v1/embeddings' }, 2)).toBe(
      'request 1 of 2 (POST /v1/embeddings)',
    );
    // Quoted when the path holds a space or a line break, so that where it ends shows.
    expect(nameRequest({ number: 2, method: 'GET', target: '/v1/jobs /1\n' }, 2)).toBe(
      'request 2 of 2 (GET "/v1/jobs /1\\n")',
    );
    expect(nameRequest({ number: 1, method: 'POST' }, 1)).toBe('request 1 of 1 (POST)');
  });

  for (const kind of TRANSPORT_KINDS) {
    it(`names a cassette interaction recorded with no path [${kind}]`, async () => {
      const cassette = structuredClone(acmeCassettes[0]!);
      cassette.interactions[0]!.request.path = '';
      const acme = {
        name: 'acme',
        baseURL: 'https://api.acme.test/v1',
        modelId: 'acme-embed-1',
        createModel: createAcmeModel,
        wire: acmeWire,
      };
      await expect(replayCassette(acme, cassette, kind)).rejects.toThrow(
        `request 1 of 1 (POST /v1/embeddings) differs from the cassette's interactions[0] (POST with no path): path: recorded "", sent "/v1/embeddings"`,
      );
    });

    it(`names an expectation with no path that a request did not meet [${kind}]`, async () => {
      const interceptor = createInterceptor(kind, ORIGIN);
      open = interceptor;
      interceptor.expect('POST', '', () => ({ status: 200, body: { ok: true } }));
      await expect(send(interceptor, 'POST', '/v1/embeddings', '{}')).rejects.toThrow();
      await interceptor.settled();
      expect(interceptor.unexpected()).toBe(
        `request 1 of 1 (POST /v1/embeddings) was not expected: the scenario answers 1 (POST with no path at ${ORIGIN})`,
      );
    });
  }
});
