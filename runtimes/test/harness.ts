import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cassette } from '@embedkit/replay';
import { build } from 'esbuild';
import { expect } from 'vitest';
import type { SmokeResult, SmokeSettings } from '../src/smoke.js';

export const RUNTIMES_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPOSITORY_ROOT = join(RUNTIMES_ROOT, '..');
/** Fake key material: the loopback server checks it arrives as a bearer token. */
export const SMOKE_KEY = 'test-key-runtimes-5c1d9e';

export const CASSETTE: Cassette = JSON.parse(
  readFileSync(
    join(REPOSITORY_ROOT, 'packages', 'provider-openai', 'test', 'cassettes', 'base64-single.json'),
    'utf8',
  ),
);

/** Vector of `item n`: [n, n + 0.5, n + 0.25, n + 0.125], exact in float32. */
export function itemVector(text: string): number[] {
  const n = Number(/^item (\d+)$/.exec(text)?.[1] ?? Number.NaN);
  return [n, n + 0.5, n + 0.25, n + 0.125];
}

export interface SeenRequest {
  method: string;
  path: string;
  origin: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export interface LoopbackServer {
  baseURL: string;
  /** Every POST to /v1/embeddings (preflights are counted apart). */
  requests: SeenRequest[];
  preflights: number;
  close(): Promise<void>;
}

async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** What lets a page of another origin POST JSON with a key to a loopback server, and read `exposed`. */
export function corsHeaders(request: IncomingMessage, exposed: string): Record<string, string> {
  return {
    'access-control-allow-origin': request.headers.origin ?? '*',
    'access-control-allow-headers': 'authorization, content-type, user-agent',
    'access-control-allow-methods': 'POST',
    'access-control-expose-headers': exposed,
  };
}

/**
 * An OpenAI-shaped `/v1/embeddings` on loopback, answering base64 vectors, with CORS headers so that a
 * page served from another origin may call it (the Authorization and JSON content-type headers make
 * the browser send a preflight first).
 */
export async function startLoopbackApi(): Promise<LoopbackServer> {
  const requests: SeenRequest[] = [];
  let preflights = 0;
  const { server, port } = await listen((request, response) => {
    const cors = corsHeaders(request, 'x-request-id');
    if (request.method === 'OPTIONS') {
      preflights++;
      response.writeHead(204, cors).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string[] };
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        origin: request.headers.origin,
        authorization: request.headers.authorization,
        body,
      });
      const data = body.input.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: Buffer.from(new Float32Array(itemVector(text)).buffer).toString('base64'),
      }));
      response.writeHead(200, {
        ...cors,
        'content-type': 'application/json',
        'x-request-id': `req-${requests.length}`,
      });
      response.end(
        JSON.stringify({
          object: 'list',
          data,
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 3 * body.input.length, total_tokens: 3 * body.input.length },
        }),
      );
    });
  });
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get preflights() {
      return preflights;
    },
    close: closer(server),
  };
}

/** A server for the test page and its script (on its own origin, so the API calls are cross-origin). */
export async function startPageServer(
  files: Record<string, { type: string; body: string }>,
): Promise<{ url: string; close(): Promise<void> }> {
  const { server, port } = await listen((request, response) => {
    const file = files[request.url ?? ''];
    if (file === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': file.type }).end(file.body);
  });
  return { url: `http://127.0.0.1:${port}/`, close: closer(server) };
}

/** Bundles `entry` (a file of src/) for a platform, leaving out what `external` names. */
export async function bundle(
  entry: string,
  options: { platform: 'browser' | 'neutral'; external?: string[] },
): Promise<string> {
  const result = await build({
    entryPoints: [join(RUNTIMES_ROOT, 'src', entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: options.platform,
    external: options.external ?? [],
    logLevel: 'silent',
  });
  expect(result.warnings).toEqual([]);
  return result.outputFiles[0]!.text;
}

export function smokeSettings(api: LoopbackServer): SmokeSettings {
  return { apiBaseURL: api.baseURL, apiKey: SMOKE_KEY, cassette: CASSETTE };
}

/** What every runtime must produce and what the loopback server must have seen. */
export function expectSmoke(result: SmokeResult, api: LoopbackServer, origin: string | undefined): void {
  expect(result.defaultTransport).toBe('fetch');
  // Every runtime here has WebAssembly SIMD: the kernels must load, not fall back unseen.
  expect(result.kernels).toBe(true);
  const expected = CASSETTE.expect as { embeddings: { prefixes: number[][] }; usage: unknown };
  expect(result.replay).toEqual({
    vectors: expected.embeddings.prefixes.map((prefix) => prefix.map((value) => Math.fround(value))),
    usage: expected.usage,
    unused: [],
    mismatches: 0,
  });
  expect(result.embed).toEqual({ vector: itemVector('item 7'), usage: { inputTokens: 3 } });
  expect(result.embedMany).toEqual({
    vectors: ['item 1', 'item 2', 'item 3'].map(itemVector),
    usage: { inputTokens: 9 },
  });
  expect(api.requests).toEqual(
    [{ input: ['item 7'] }, { input: ['item 1', 'item 2'] }, { input: ['item 3'] }].map(({ input }) => ({
      method: 'POST',
      path: '/v1/embeddings',
      origin,
      authorization: `Bearer ${SMOKE_KEY}`,
      body: { model: 'text-embedding-3-small', input, encoding_format: 'base64', dimensions: 4 },
    })),
  );
}
