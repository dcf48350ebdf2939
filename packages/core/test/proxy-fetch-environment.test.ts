/**
 * The fetch transport behind the proxy Node's own `fetch` reads from the environment when told to
 * (`NODE_USE_ENV_PROXY=1` or `--use-env-proxy`, Node 24): the credentials in `HTTPS_PROXY` / `HTTP_PROXY`
 * are secrets of every call, since a proxy's page may echo them; and no secrets when nothing tells Node's
 * fetch to use them. Bun's and Deno's fetch read them always: there they are secrets as they stand (in
 * Deno, those it may read; the real runtimes are run in runtimes/test/proxy-environment.test.ts). A given undici `EnvHttpProxyAgent` that reads them itself is covered in
 * proxy-environment.test.ts.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerError } from '../src/errors.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { rejectionOf } from './helpers.js';
import { acmeRequest, walkForSecrets } from './http-helpers.js';

const PASSWORD = 'fake-env-proxy-pass';
const BASIC = Buffer.from(`user:${PASSWORD}`).toString('base64');
const PROXY_VARIABLES = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NODE_USE_ENV_PROXY',
  'NODE_OPTIONS',
];
const URL_TO = 'http://api.acme.test/v1/embeddings';

/** A proxy's page that echoes the credentials it was sent: the password in words, and the header. */
const echoPage = (authorization: string) => {
  const password = Buffer.from(authorization.replace(/^Basic /, ''), 'base64')
    .toString()
    .split(':')[1];
  return `<p>the password ${password} was refused</p><pre>Proxy-Authorization: ${authorization}</pre>`;
};
const ECHOED_MESSAGE =
  'acme API error 502: a non-JSON text/html: the password [REDACTED] was refused Proxy-Authorization: Basic [REDACTED] — The API failed on its side; the engine retries these.';

describe('the fetch transport and the proxy variables', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** A fetch that stands for one going through the proxy: its answer is the proxy's echo page. */
  const throughProxy = async () =>
    new Response(echoPage(`Basic ${BASIC}`), { status: 502, headers: { 'content-type': 'text/html' } });

  it.each([
    ['NODE_USE_ENV_PROXY', '1', 'HTTPS_PROXY'],
    ['NODE_USE_ENV_PROXY', '1', 'http_proxy'],
    ['NODE_OPTIONS', '--use-env-proxy', 'HTTP_PROXY'],
  ])('with %s=%s, the password in %s is kept out of an error', async (flag, value, name) => {
    // Bug: only an undici dispatcher's proxies were read; Node's fetch, reading the proxy from the
    // environment itself, sent its credentials, and a page that echoed them showed the password.
    for (const each of PROXY_VARIABLES) vi.stubEnv(each, undefined);
    vi.stubEnv(flag, value);
    vi.stubEnv(name, `http://user:${PASSWORD}@proxy.internal:3128`);
    const transport = createFetchTransport(throughProxy);
    expect(transport.proxyUrls?.()).toEqual([`http://user:${PASSWORD}@proxy.internal:3128`]);
    const error = await rejectionOf(ServerError, acmeRequest(transport, URL_TO));
    expect(error.message).toBe(ECHOED_MESSAGE);
    expect(walkForSecrets(error, [PASSWORD, BASIC]).leaks).toEqual([]);
  });

  it.each([
    ['unset', undefined],
    ['0', '0'],
  ])(
    'with NODE_USE_ENV_PROXY %s, Node fetch goes to the host itself: the variables add no secret',
    (_name, value) => {
      for (const each of PROXY_VARIABLES) vi.stubEnv(each, undefined);
      vi.stubEnv('NODE_USE_ENV_PROXY', value);
      vi.stubEnv('HTTPS_PROXY', `http://user:${PASSWORD}@proxy.internal:3128`);
      expect(createFetchTransport(throughProxy).proxyUrls?.()).toEqual([]);
    },
  );

  it('in Bun, whose fetch reads them always, the variables are secrets with nothing to tell it', async () => {
    // Bug: counted only for Node's fetch told to read them; Bun's fetch sent the credentials all the same.
    for (const each of PROXY_VARIABLES) vi.stubEnv(each, undefined);
    vi.stubEnv('http_proxy', `http://user:${PASSWORD}@proxy.internal:3128`);
    Object.defineProperty(process.versions, 'bun', { value: '1.3.14', configurable: true });
    try {
      const transport = createFetchTransport(throughProxy);
      expect(transport.proxyUrls?.()).toEqual([`http://user:${PASSWORD}@proxy.internal:3128`]);
      const error = await rejectionOf(ServerError, acmeRequest(transport, URL_TO));
      expect(error.message).toBe(ECHOED_MESSAGE);
    } finally {
      delete (process.versions as { bun?: string }).bun;
    }
  });

  it('in Deno, the variables it may read are secrets (ALL_PROXY too); one it may not is left unread, so Deno asks the user nothing', () => {
    // Bug: Deno's fetch reads them always and they were not counted; and reading one it was not granted
    // would stop the program on a permission prompt (or throw) while an error is built.
    const values: Record<string, string> = {
      HTTPS_PROXY: 'http://user:not-granted@proxy.internal:3128',
      http_proxy: `http://user:${PASSWORD}@proxy.internal:3128`,
      ALL_PROXY: 'http://user:fake-all-proxy-pass@proxy.internal:3128',
    };
    const read: string[] = [];
    vi.stubGlobal('Deno', {
      permissions: {
        querySync: ({ name, variable }: { name: string; variable: string }) => ({
          state: name === 'env' && variable !== 'HTTPS_PROXY' ? 'granted' : 'prompt',
        }),
      },
      env: {
        get: (name: string) => {
          read.push(name);
          return values[name];
        },
      },
    });
    try {
      expect(createFetchTransport(throughProxy).proxyUrls?.()).toEqual([values.http_proxy, values.ALL_PROXY]);
      expect(read).toEqual(['https_proxy', 'http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY']);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

/** Node's fetch reads `NODE_USE_ENV_PROXY` when the process starts: a child process is started with it. */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

describe('Node 24: the global fetch behind HTTP_PROXY with NODE_USE_ENV_PROXY=1', () => {
  // Node 20 has no proxy support in its fetch (NODE_USE_ENV_PROXY came in Node 24): nothing to run there.
  // CI runs this suite on Node 24 too.
  it.skipIf(NODE_MAJOR < 24)(
    'a proxy that opens the tunnel, then answers with a page echoing its credentials: the error shows none of them',
    async () => {
      const seen: string[] = [];
      const proxy = createServer();
      proxy.on('connect', (request: IncomingMessage, socket: Socket) => {
        const authorization = request.headers['proxy-authorization'] ?? '';
        seen.push(authorization);
        socket.on('error', () => {});
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        socket.once('data', () => {
          const page = echoPage(authorization);
          socket.end(
            `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: ${Buffer.byteLength(page)}\r\nconnection: close\r\n\r\n${page}`,
          );
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      try {
        const port = (proxy.address() as AddressInfo).port;
        // The built package, as a program imports it: the source's TypeScript does not run in a bare Node.
        const provider = new URL('../dist/provider.js', import.meta.url).href;
        const program = `
          const { createFetchTransport, requestJson } = await import(${JSON.stringify(provider)});
          const error = await requestJson({
            transport: createFetchTransport(),
            provider: 'acme',
            url: ${JSON.stringify(URL_TO)},
            body: { input: ['a'] },
            headers: { authorization: 'Bearer sk-fake-not-a-real-key-abc' },
          }).catch((error) => error);
          process.stdout.write(JSON.stringify({ name: error.name, message: error.message, body: error.responseBody }));
        `;
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          NODE_USE_ENV_PROXY: '1',
          HTTP_PROXY: `http://user:${PASSWORD}@127.0.0.1:${port}`,
        };
        for (const name of ['HTTPS_PROXY', 'https_proxy', 'http_proxy', 'NO_PROXY', 'no_proxy'])
          delete env[name];
        const { stdout } = await promisify(execFile)(
          process.execPath,
          ['--input-type=module', '-e', program],
          {
            env,
            cwd: fileURLToPath(new URL('..', import.meta.url)),
          },
        );
        const error = JSON.parse(stdout) as { name: string; message: string; body: string };
        expect(seen).toEqual([`Basic ${BASIC}`]);
        expect(error.name).toBe('ServerError');
        expect(error.message).toBe(ECHOED_MESSAGE);
        expect(error.body).toBe(
          '<p>the password [REDACTED] was refused</p><pre>Proxy-Authorization: Basic [REDACTED]</pre>',
        );
      } finally {
        await new Promise<void>((resolve) => proxy.close(() => resolve()));
      }
    },
  );
});
