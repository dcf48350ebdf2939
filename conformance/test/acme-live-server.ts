/**
 * A loopback stand-in for the live Acme API, for the record-mode tests: `POST /v1/embeddings` with the
 * key as a bearer token, answered as `acmeWire` answers (vectors derived from each text), with switches
 * for the failures a recording must not survive.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutputType } from '@embedkit/core';
import { acmeWire } from '../mutants/reference-provider.js';
import { valuesFor } from '../src/suite/answers.js';

export interface LiveRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface LiveServerOptions {
  /** The key the API accepts; any other is a 401. */
  key: string;
  /** The n-th request (1-based) fails: a 500, or a reset connection. */
  failOnCall?: { call: number; with: 500 | 'reset' };
  /** Each answer waits this long per input before it is sent, so larger calls answer later. */
  delayPerInputMs?: number;
  /** Extra response headers on every answer. */
  headers?: Record<string, string>;
}

export interface LiveServer {
  /** `http://127.0.0.1:port/v1`. */
  baseURL: string;
  readonly requests: LiveRequest[];
  close(): Promise<void>;
}

export async function startLiveServer(options: LiveServerOptions): Promise<LiveServer> {
  const requests: LiveRequest[] = [];
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    request.on('end', () => {
      const body = raw === '' ? undefined : (JSON.parse(raw) as Record<string, unknown>);
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const send = (status: number, answer: unknown, delayMs = 0) =>
        setTimeout(() => {
          response.writeHead(status, {
            'content-type': 'application/json',
            'x-request-id': `req-live-${requests.length}`,
            'x-ratelimit-remaining-requests': '99',
            'set-cookie': `session=${options.key}`,
            ...options.headers,
          });
          response.end(JSON.stringify(answer));
        }, delayMs);
      if (options.failOnCall?.call === requests.length) {
        if (options.failOnCall.with === 'reset') {
          request.socket.destroy();
          return;
        }
        send(500, { error: { message: 'internal error', type: 'server_error', param: null, code: null } });
        return;
      }
      if (request.headers.authorization !== `Bearer ${options.key}`) {
        send(401, {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        });
        return;
      }
      const input = (body?.input ?? []) as string[];
      const dimensions = (body?.dimensions as number | undefined) ?? 32;
      const outputType = (body?.output_dtype as OutputType | undefined) ?? 'float';
      const answer = acmeWire.successBody({
        body,
        vectors: input.map((text) => valuesFor(text, dimensions, outputType)),
        order: input.map((_text, index) => index),
        usageTokens: input.length,
      });
      send(200, answer, (options.delayPerInputMs ?? 0) * input.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
