/**
 * A given undici `Socks5ProxyAgent` with a user and password: a SOCKS5 proxy that opens the connection,
 * then answers the request itself with a page echoing the credentials it was sent, shows none of them in
 * the error, however the agent is given (as is, or wrapped by `compose`).
 */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { type Dispatcher, interceptors, Socks5ProxyAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ServerError } from '../src/errors.js';
import { createUndiciTransport } from '../src/http/undici-transport.js';
import { rejectionOf } from './helpers.js';
import { acmeRequest, walkForSecrets } from './http-helpers.js';

const USER = 'fake-socks-user';
const PASSWORD = 'fake-socks-pass';
/** A password with characters a URL must percent-encode, as it is written in one, and as it is sent. */
const ENCODED_PASSWORD = 'fake%40socks%2Fpass';
const DECODED_PASSWORD = 'fake@socks/pass';

/** What the proxy's page says it was sent: the password in words, and a dump of it in wrapped base64. */
function echoPage(user: string, password: string): string {
  const dump = Buffer.from(
    `socks5 greeting from 127.0.0.1, credentials sent: ${user}:${password}; policy: deny`,
  )
    .toString('base64')
    .replace(/.{76}/g, '$&\n');
  return `<h1>502 refused</h1><p>the password ${password} was refused</p><pre>${dump}</pre>`;
}

/**
 * A loopback SOCKS5 proxy (RFC 1928, with the user/password method of RFC 1929) that takes any
 * credentials and any CONNECT, then answers the request that comes through the tunnel with a 502 whose page
 * echoes the credentials.
 */
async function startSocksProxy() {
  const seen: { user: string; password: string }[] = [];
  const server = createServer((socket: Socket) => {
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'connect' | 'request' | 'done' = 'greeting';
    let credentials = { user: '', password: '' };
    /** Handles one stage when its bytes are all there; false when more are needed. */
    const step = (): boolean => {
      if (stage === 'greeting') {
        if (buffer.length < 2 || buffer.length < 2 + buffer[1]!) return false;
        buffer = buffer.subarray(2 + buffer[1]!);
        socket.write(Buffer.from([5, 2]));
        stage = 'auth';
      } else if (stage === 'auth') {
        const userLength = buffer[1] ?? 0;
        if (buffer.length < 3 + userLength) return false;
        const passwordLength = buffer[2 + userLength]!;
        if (buffer.length < 3 + userLength + passwordLength) return false;
        credentials = {
          user: buffer.subarray(2, 2 + userLength).toString(),
          password: buffer.subarray(3 + userLength, 3 + userLength + passwordLength).toString(),
        };
        seen.push(credentials);
        buffer = buffer.subarray(3 + userLength + passwordLength);
        socket.write(Buffer.from([1, 0]));
        stage = 'connect';
      } else if (stage === 'connect') {
        if (buffer.length < 5) return false;
        const type = buffer[3];
        const address = type === 1 ? 4 : type === 4 ? 16 : 1 + buffer[4]!;
        if (buffer.length < 4 + address + 2) return false;
        buffer = buffer.subarray(4 + address + 2);
        socket.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
        stage = 'request';
      } else if (stage === 'request') {
        if (!buffer.includes('\r\n\r\n')) return false;
        const page = echoPage(credentials.user, credentials.password);
        socket.end(
          `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: ${Buffer.byteLength(page)}\r\nconnection: close\r\n\r\n${page}`,
        );
        stage = 'done';
      } else return false;
      return true;
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (step()) {}
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a given Socks5ProxyAgent whose proxy echoes the credentials it was sent', () => {
  const url = 'http://127.0.0.1:9/v1/embeddings';
  let proxy: Awaited<ReturnType<typeof startSocksProxy>>;

  beforeAll(async () => {
    proxy = await startSocksProxy();
    // undici announces its SOCKS support as experimental once per process, when the first agent is made.
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await proxy.close();
  });

  /** The ways a caller gives the agent, by the name each row gives. */
  const given = {
    'the agent itself': (agent: Socks5ProxyAgent): Dispatcher => agent,
    'the agent wrapped by compose, twice': (agent: Socks5ProxyAgent): Dispatcher =>
      agent.compose(interceptors.dns()).compose((dispatch) => dispatch),
  };

  it.each([
    ['the agent itself', 'in its URL', PASSWORD],
    ['the agent wrapped by compose, twice', 'in its URL', PASSWORD],
    ['the agent itself', 'percent-encoded in its URL', ENCODED_PASSWORD],
    ['the agent itself', 'as its options', PASSWORD],
    ['the agent wrapped by compose, twice', 'as its options', DECODED_PASSWORD],
  ] as const)('%s, with the credentials %s: the page shows none of them', async (how, where, password) => {
    // Bug: only an HTTP ProxyAgent's URL and headers were read; the user and password a Socks5ProxyAgent
    // keeps were not, and the page showed the password in words and inside its base64 dump.
    const origin = `127.0.0.1:${proxy.port}`;
    const agent =
      where === 'as its options'
        ? new Socks5ProxyAgent(`socks5://${origin}`, { username: USER, password })
        : new Socks5ProxyAgent(`socks5://${USER}:${password}@${origin}`);
    const sent = where === 'as its options' ? password : decodeURIComponent(password);
    proxy.seen.length = 0;
    try {
      const error = await rejectionOf(
        ServerError,
        acmeRequest(createUndiciTransport(given[how](agent)), url),
      );
      expect(proxy.seen).toEqual([{ user: USER, password: sent }]);
      // The dump's base64 holds `fake-socks-user:` and the password across its line break.
      expect(error.message).toBe(
        `acme API error 502: a non-JSON text/html: 502 refused the password [REDACTED] was refused ${ECHOED_DUMP} — The API failed on its side; the engine retries these.`,
      );
      expect(error.responseBody).toBe(
        `<h1>502 refused</h1><p>the password [REDACTED] was refused</p><pre>${ECHOED_DUMP}</pre>`,
      );
      const basic = Buffer.from(`${USER}:${sent}`).toString('base64');
      expect(walkForSecrets(error, [sent, password, `${USER}:${sent}`, basic]).leaks).toEqual([]);
    } finally {
      await agent.close();
    }
  });
});

/** The base64 dump of `echoPage` with the credentials redacted and its line break gone. */
const ECHOED_DUMP =
  'c29ja3M1IGdyZWV0aW5nIGZyb20gMTI3LjAuMC4xLCBjcmVkZW50aWFscyBzZW50OiBm[REDACTED]OyBwb2xpY3k6IGRlbnk=';
