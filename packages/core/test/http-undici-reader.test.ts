import { getEventListeners } from 'node:events';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ResponseTooLargeError, type TransportRequest } from '../src/http/transport.js';
import { createUndiciTransport } from '../src/http/undici-transport.js';
import { rejection } from './helpers.js';
import { type LoopbackHandler, startLoopback } from './http-helpers.js';

/**
 * The undici transport reads each answer through `dispatch` with a handler of its own (no `request`, no
 * body stream): what `undici.request` did for it before, it must still do. A loopback server answers.
 */
describe('the undici transport reading answers through its own handler', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  let origin = '';
  let handler: LoopbackHandler = (_request, response) => response.end('{}');
  /** What the server received: each request's path with its query, and its body. */
  const seen = () => loopback.requests.map(({ url, body }) => ({ url, body }));
  const agents: Agent[] = [];

  beforeAll(async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) vi.stubEnv(name, '');
    loopback = await startLoopback((request, response, body) => handler(request, response, body));
    origin = loopback.origin;
  });

  afterEach(async () => {
    loopback.reset();
    handler = (_request, response) => response.end('{}');
    await Promise.all(agents.splice(0).map((agent) => agent.destroy()));
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await loopback.close();
  });

  /** A plain agent of the test's own (no interceptors), closed after the test. */
  function ownAgent(options: Agent.Options = {}): Agent {
    const agent = new Agent(options);
    agents.push(agent);
    return agent;
  }

  function request(overrides: Partial<TransportRequest> = {}): TransportRequest {
    return {
      url: `${origin}/v1/embeddings`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"input":["x"]}',
      maxResponseBytes: 1_000_000,
      ...overrides,
    };
  }

  const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');

  it('sends the path with its query, the method and the body, and joins a header sent twice', async () => {
    handler = (_request, response) => {
      response.setHeader('X-Multi', ['first', 'second']);
      response.setHeader('Content-Type', 'application/json');
      response.end('{"ok":true}');
    };
    const response = await createUndiciTransport().request(
      request({ url: `${origin}/v1beta/models/m:batchEmbedContents?alt=json&x=1` }),
    );
    expect(seen()).toEqual([
      { url: '/v1beta/models/m:batchEmbedContents?alt=json&x=1', body: '{"input":["x"]}' },
    ]);
    expect(response.status).toBe(200);
    expect(response.headers['x-multi']).toBe('first, second');
    expect(response.headers['content-type']).toBe('application/json');
    expect(text(response.body)).toBe('{"ok":true}');
  });

  it('hands a caller-given dispatcher the request as undici.request would, with the socket timeouts', async () => {
    const given: Dispatcher.DispatchOptions[] = [];
    const agent = ownAgent();
    const recording = {
      dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
        given.push(options);
        return agent.dispatch(options, handler);
      },
    } as unknown as Dispatcher;
    const transport = createUndiciTransport(recording);
    await transport.request(request({ url: `${origin}/v1/embeddings?q=1`, timeoutMs: 5_000 }));
    // An attempt timeout past the default ten minutes moves the socket's timeouts a second past it.
    await transport.request(request({ timeoutMs: 900_000 }));
    await transport.request(request({ method: 'GET', body: undefined }));
    expect(given).toEqual([
      {
        origin,
        path: '/v1/embeddings?q=1',
        method: 'POST',
        // A caller's dispatcher is used as is: no compression is negotiated for it.
        headers: { 'content-type': 'application/json' },
        body: '{"input":["x"]}',
        headersTimeout: 600_000,
        bodyTimeout: 600_000,
      },
      {
        origin,
        path: '/v1/embeddings',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"input":["x"]}',
        headersTimeout: 901_000,
        bodyTimeout: 901_000,
      },
      // A GET has no body, not a null one.
      {
        origin,
        path: '/v1/embeddings',
        method: 'GET',
        headers: { 'content-type': 'application/json' },
        headersTimeout: 600_000,
        bodyTimeout: 600_000,
      },
    ]);
  });

  it('a body that arrives in one chunk is that chunk, with nothing to hand back', async () => {
    handler = (_request, response) => response.end('{"small":true}');
    const response = await createUndiciTransport().request(request());
    expect(text(response.body)).toBe('{"small":true}');
    expect(response.release).toBeUndefined();
  });

  it('a GET sends no body', async () => {
    handler = (_request, response) => response.end('done');
    const response = await createUndiciTransport().request(request({ method: 'GET', body: undefined }));
    expect(seen()).toEqual([{ url: '/v1/embeddings', body: '' }]);
    expect(text(response.body)).toBe('done');
  });

  it("reads the answer after a 103 Early Hints through a caller's own plain agent", async () => {
    handler = (_request, response) => {
      response.writeEarlyHints({ link: '</a.css>; rel=preload; as=style' });
      response.writeHead(201, { 'content-type': 'text/plain', 'x-final': 'yes' });
      response.end('created');
    };
    const response = await createUndiciTransport(ownAgent()).request(request());
    expect(response.status).toBe(201);
    expect(response.headers['x-final']).toBe('yes');
    expect(response.headers.link).toBeUndefined();
    expect(text(response.body)).toBe('created');
  });

  it('an already aborted signal rejects with its reason and sends nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('gave up before sending');
    controller.abort(reason);
    const transport = createUndiciTransport();
    expect(await rejection(transport.request(request({ signal: controller.signal })))).toBe(reason);
    // The next request is the first the server sees.
    await transport.request(request({ body: '{"second":true}' }));
    expect(seen()).toEqual([{ url: '/v1/embeddings', body: '{"second":true}' }]);
  });

  it('a request aborted while it waits for a connection is never sent', async () => {
    // One connection, held by a first request the server does not answer until told to.
    let answerFirst: (() => void) | undefined;
    handler = (_request, response) => {
      answerFirst = () => response.end('first');
    };
    const transport = createUndiciTransport(ownAgent({ connections: 1 }));
    const first = transport.request(request({ body: '{"n":1}' }));
    await vi.waitFor(() => expect(answerFirst).toBeDefined(), { interval: 5 });
    const controller = new AbortController();
    const reason = new Error('no longer wanted');
    const second = rejection(transport.request(request({ body: '{"n":2}', signal: controller.signal })));
    controller.abort(reason);
    handler = (_request, response) => response.end('third');
    answerFirst!();
    expect(text((await first).body)).toBe('first');
    expect(await second).toBe(reason);
    // The connection is free again and the aborted request's body never reached the server.
    expect(text((await transport.request(request({ body: '{"n":3}' }))).body)).toBe('third');
    expect(seen().map((entry) => entry.body)).toEqual(['{"n":1}', '{"n":3}']);
  });

  it('leaves no listener on the signal once a request is answered, has failed or was refused', async () => {
    const transport = createUndiciTransport();
    const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

    let release: (() => void) | undefined;
    handler = (_request, response) => {
      release = () => response.end('{"ok":true}');
    };
    const answered = new AbortController();
    const pending = transport.request(request({ signal: answered.signal }));
    await vi.waitFor(() => expect(release).toBeDefined(), { interval: 5 });
    // While the answer is awaited, the transport watches the signal...
    expect(listeners(answered.signal)).toBe(1);
    release!();
    await pending;
    // ...and not after: a signal shared by a whole job would otherwise gather one listener per call.
    expect(listeners(answered.signal)).toBe(0);

    handler = (request) => request.socket.destroy();
    const failed = new AbortController();
    await rejection(transport.request(request({ signal: failed.signal })));
    expect(listeners(failed.signal)).toBe(0);

    handler = (_request, response) => response.end('x'.repeat(5_000));
    const refused = new AbortController();
    const error = await rejection(
      transport.request(request({ signal: refused.signal, maxResponseBytes: 100 })),
    );
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(listeners(refused.signal)).toBe(0);
  });

  it('a body refused as too large ends its connection; the next request gets a new one and its answer', async () => {
    const sockets = new Set<unknown>();
    handler = (request, response) => {
      sockets.add(request.socket);
      if (loopback.requests.length === 1) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('y'.repeat(3_000));
        // The rest never comes: only the refusal can end this request.
        return;
      }
      response.end('small');
    };
    const transport = createUndiciTransport(ownAgent({ connections: 1 }));
    const error = await rejection(transport.request(request({ maxResponseBytes: 1_000 })));
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as ResponseTooLargeError).limit).toBe(1_000);
    expect(text((await transport.request(request())).body)).toBe('small');
    expect(sockets.size).toBe(2);
  });

  it.each([
    ['declared', true],
    ['chunked', false],
  ])('a %s body of exactly maxResponseBytes is read; one byte more is refused', async (_, declared) => {
    handler = (request, response) => {
      const size = Number(request.headers['x-size']);
      response.writeHead(200, {
        'content-type': 'text/plain',
        ...(declared ? { 'content-length': size } : {}),
      });
      // In pieces, so that a chunked body is counted across chunks.
      for (let sent = 0; sent < size; sent += 300) response.write('z'.repeat(Math.min(300, size - sent)));
      response.end();
    };
    const transport = createUndiciTransport();
    const exact = await transport.request(
      request({ headers: { 'x-size': '1000' }, maxResponseBytes: 1_000 }),
    );
    expect(exact.body.byteLength).toBe(1_000);
    const error = await rejection(
      transport.request(request({ headers: { 'x-size': '1001' }, maxResponseBytes: 1_000 })),
    );
    expect(error).toBeInstanceOf(ResponseTooLargeError);
  });

  it('a body that declares more than maxResponseBytes is refused at its headers, before any byte of it', async () => {
    let closed = false;
    handler = (_request, response) => {
      response.on('close', () => {
        closed = true;
      });
      // Headers only: the body never comes, so nothing but the declared length can end the request.
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': 50_000 });
      response.flushHeaders();
    };
    const error = await rejection(createUndiciTransport().request(request({ maxResponseBytes: 1_000 })));
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    await vi.waitFor(() => expect(closed).toBe(true), { interval: 5, timeout: 2_000 });
  });

  it('a dispatcher that throws instead of reporting to the handler rejects with its error', async () => {
    const thrown = new Error('dispatcher out of order');
    const dispatcher = {
      dispatch() {
        throw thrown;
      },
    } as unknown as Dispatcher;
    const controller = new AbortController();
    const error = await rejection(
      createUndiciTransport(dispatcher).request(request({ signal: controller.signal })),
    );
    expect(error).toBe(thrown);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an origin that is not http(s) is refused by undici before anything is sent', async () => {
    const error = await rejection(
      createUndiciTransport().request(request({ url: 'ftp://example.test/v1/embeddings' })),
    );
    expect((error as { code?: string }).code).toBe('UND_ERR_INVALID_ARG');
    expect(seen()).toEqual([]);
  });
});
