import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TransportRequest } from '../src/http/transport.js';
import { createDefaultDispatcher, createUndiciTransport } from '../src/http/undici-transport.js';
import { rejection } from './helpers.js';
import { type LoopbackHandler, startLoopback } from './http-helpers.js';

/**
 * The Node default dispatcher: which proxy variable sends requests through a proxy (each of the four on
 * its own), and what its options change (connections per origin, no decompression),
 * and that making one neither prints undici's experimental-feature warning nor leaves the process's
 * `emitWarning` replaced.
 */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

const dispatchers: Dispatcher[] = [];

/** A default dispatcher made with `options`, closed after the test. */
function dispatcher(options: Parameters<typeof createDefaultDispatcher>[0] = {}): Dispatcher {
  const made = createDefaultDispatcher(options);
  dispatchers.push(made);
  return made;
}

function request(url: string, overrides: Partial<TransportRequest> = {}): TransportRequest {
  return { url, method: 'POST', headers: {}, body: '{}', maxResponseBytes: 1e6, ...overrides };
}

afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await Promise.all(dispatchers.splice(0).map((made) => made.destroy().catch(() => {})));
});

// First in the file: undici warns once per process, at the first decompressor made.
describe('making a dispatcher', () => {
  it('prints no experimental-feature warning of undici’s, and leaves emitWarning as it was', () => {
    const before = process.emitWarning;
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const installed = process.emitWarning;
    dispatcher();
    dispatcher();
    expect(warned.mock.calls.map(([warning]) => String(warning))).toEqual([]);
    expect(process.emitWarning).toBe(installed);
    warned.mockRestore();
    expect(process.emitWarning).toBe(before);
  });
});

describe('the proxy variables', () => {
  /** A proxy that records the first line of what it is asked and refuses it. */
  let proxy: { origin: string; seen: string[]; close(): Promise<void> };

  beforeAll(async () => {
    const seen: string[] = [];
    const server = createServer((incoming: IncomingMessage, response) => {
      seen.push(`${incoming.method} ${incoming.url}`);
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('proxy says no');
    });
    server.on('connect', (incoming: IncomingMessage, socket) => {
      seen.push(`${incoming.method} ${incoming.url}`);
      socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = {
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      seen,
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  });

  afterAll(async () => {
    await proxy.close();
  });

  function only(variable: (typeof PROXY_VARIABLES)[number]) {
    // Unset, not empty: undici reads the lower-case name first, and an empty one hides the upper-case one.
    for (const name of [...PROXY_VARIABLES, 'NO_PROXY', 'no_proxy'])
      vi.stubEnv(name, name === variable ? proxy.origin : undefined);
    proxy.seen.length = 0;
  }

  // undici's proxy agent tunnels http:// too; HTTP_PROXY serves https:// when no HTTPS_PROXY is set, but
  // HTTPS_PROXY serves https:// only: an http:// request goes straight to its origin. (The origin is a
  // loopback server, so that no name is looked up.)
  it.each([
    ['HTTPS_PROXY', 'https', true],
    ['https_proxy', 'https', true],
    ['HTTPS_PROXY', 'http', false],
    ['https_proxy', 'http', false],
    ['HTTP_PROXY', 'http', true],
    ['http_proxy', 'http', true],
    ['HTTP_PROXY', 'https', true],
    ['http_proxy', 'https', true],
  ] as const)('%s alone: an %s:// request goes through the proxy: %s', async (variable, scheme, proxied) => {
    only(variable);
    const target = await startLoopback((_request, response) => response.end('direct'));
    try {
      const host = new URL(target.origin).host;
      const transport = createUndiciTransport(dispatcher());
      const sent = transport.request(request(`${scheme}://${host}/v1/embeddings`));
      if (proxied) {
        await rejection(sent);
        expect(proxy.seen).toEqual([`CONNECT ${host}`]);
        expect(target.requests).toEqual([]);
      } else {
        expect(new TextDecoder().decode((await sent).body)).toBe('direct');
        expect(proxy.seen).toEqual([]);
      }
    } finally {
      await target.close();
    }
  });

  it('with none set, a request goes straight to its origin', async () => {
    for (const name of PROXY_VARIABLES) vi.stubEnv(name, '');
    proxy.seen.length = 0;
    const target = await startLoopback((_request, response) => response.end('direct'));
    try {
      const transport = createUndiciTransport(dispatcher());
      const response = await transport.request(request(`${target.origin}/v1/embeddings`));
      expect(new TextDecoder().decode(response.body)).toBe('direct');
      expect(target.requests.map((seen) => seen.url)).toEqual(['/v1/embeddings']);
      expect(proxy.seen).toEqual([]);
    } finally {
      await target.close();
    }
  });
});

describe('the dispatcher’s options', () => {
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  let handler: LoopbackHandler = (_request, response) => response.end('{}');

  beforeAll(async () => {
    loopback = await startLoopback((incoming, response, body) => handler(incoming, response, body));
  });

  afterEach(() => {
    loopback.reset();
    handler = (_request, response) => response.end('{}');
  });

  afterAll(async () => {
    await loopback.close();
  });

  function direct() {
    for (const name of PROXY_VARIABLES) vi.stubEnv(name, '');
  }

  it('connections bounds the sockets to an origin: three requests at once share one', async () => {
    direct();
    const held: (() => void)[] = [];
    handler = (_request, response) => {
      held.push(() => response.end('ok'));
    };
    const transport = createUndiciTransport(dispatcher({ connections: 1 }));
    const answers = [1, 2, 3].map((n) =>
      transport.request(request(`${loopback.origin}/v1`, { body: `{"n":${n}}` })),
    );
    for (let answered = 0; answered < 3; answered++) {
      await vi.waitFor(() => expect(held.length).toBe(answered + 1), { interval: 5 });
      held[answered]!();
    }
    await Promise.all(answers);
    expect(loopback.connections).toHaveLength(1);
    expect(loopback.requests.map((seen) => seen.body)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('decompress: false hands a gzipped answer on as the bytes sent', async () => {
    direct();
    const compressed = gzipSync('{"ok":true}');
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      response.end(compressed);
    };
    const raw = await createUndiciTransport(dispatcher({ decompress: false })).request(
      request(`${loopback.origin}/v1`),
    );
    expect(Buffer.from(raw.body).equals(compressed)).toBe(true);
    const decoded = await createUndiciTransport(dispatcher()).request(request(`${loopback.origin}/v1`));
    expect(new TextDecoder().decode(decoded.body)).toBe('{"ok":true}');
  });
});
