/**
 * Answers that break on the wire, met by `embed` in Node (its undici transport), Bun, Deno and headless
 * Chromium (their `fetch`): a 429 with `Retry-After`, a 503 whose gzip body is garbage, a 200 cut short by
 * a destroyed socket, a 200 that stalls after its headers, a 200 far over the size cap, a sound gzip 200,
 * and a gzip body that inflates without end. Each runtime runs every case in one process (one page for Chromium) against a loopback
 * server of its own, and each test checks one case of what it reported.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { constants, createDeflateRaw, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultCase, type FaultOutcome, type FaultSettings, runFaults } from '../src/faults.js';
import { bundle, corsHeaders, RUNTIMES_ROOT, startPageServer } from './harness.js';
import { requireRuntime } from './locate.js';
import { findChromium, pageFiles, RUNTIMES, runInChromium, runProcess } from './runtimes.js';

const KEY = 'sk-fake-not-a-real-key-abc';
const FAULTS_RUNNER = join(RUNTIMES_ROOT, '.smoke', 'faults.mjs');

/** The answer of a call that goes through: `item 7`'s vector, [7, 7.5, 7.25, 7.125], as base64. */
const GOOD = JSON.stringify({
  object: 'list',
  data: [
    {
      object: 'embedding',
      index: 0,
      embedding: Buffer.from(Float32Array.of(7, 7.5, 7.25, 7.125).buffer).toString('base64'),
    },
  ],
  model: 'text-embedding-3-small',
  usage: { prompt_tokens: 3, total_tokens: 3 },
});
const GOOD_GZIP = gzipSync(GOOD);
/** A gzip body whose header is sound and whose compressed data is not. */
const CORRUPT_GZIP = gzipSync(`{"error":{"message":"overloaded","pad":"${'z'.repeat(3_000)}"}}`);
for (let index = 20; index < 60; index++) CORRUPT_GZIP[index]! ^= 0x5a;
/** The gzip header of a bomb: what follows it is one deflate block of 1 MiB of spaces, sent again and again. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** The most the bomb sends: 64 MiB of compressed bytes, some 64 GiB once inflated; and the oversized 200's length. */
const BOMB_LIMIT = 64 * 1024 * 1024;

/**
 * 1 MiB of spaces as raw deflate, ended by a full flush: it refers to nothing before it, so copies of it
 * one after another are a valid deflate stream (about a thousand times as long inflated).
 */
async function inflatingBlock(): Promise<Buffer> {
  const deflate = createDeflateRaw();
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  deflate.write(Buffer.alloc(1024 * 1024, 0x20));
  await new Promise<void>((resolve) => deflate.flush(constants.Z_FULL_FLUSH, () => resolve()));
  deflate.close();
  return Buffer.concat(chunks);
}

interface FaultServer {
  origin: string;
  /** POSTs per case (preflights are not counted). */
  requests: Partial<Record<FaultCase, number>>;
  /** The Accept-Encoding each case's last POST offered (none: absent). */
  offered: Partial<Record<FaultCase, string>>;
  /**
   * For each streamed answer (the oversized 200, the bomb): whether it is written whole (true) or its
   * connection closes first (false), whichever comes first.
   */
  written: Partial<Record<FaultCase, Promise<boolean>>>;
  close(): Promise<void>;
}

/** Answers `/{case}/v1/embeddings` as the case says, with CORS headers that let a page of another origin call it. */
async function startFaultServer(block: Buffer): Promise<FaultServer> {
  const requests: FaultServer['requests'] = {};
  const offered: FaultServer['offered'] = {};
  const written: FaultServer['written'] = {};
  /** Sends `chunk` until BOMB_LIMIT bytes are out or the client goes away, and notes which came first. */
  function stream(name: FaultCase, response: ServerResponse, chunk: Buffer): void {
    let sent = 0;
    let settle: (whole: boolean) => void = () => {};
    written[name] = new Promise((resolve) => {
      settle = resolve;
    });
    response.socket?.once('close', () => settle(false));
    const pump = () => {
      while (!response.destroyed && sent < BOMB_LIMIT) {
        sent += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      if (!response.destroyed) {
        response.end(() => settle(true));
      }
    };
    pump();
  }
  const server: Server = createServer((request, response) => {
    const cors = corsHeaders(request, 'x-request-id, retry-after');
    if (request.method === 'OPTIONS') {
      response.writeHead(204, cors).end();
      return;
    }
    const name = (request.url ?? '').split('/')[1] as FaultCase;
    const encodings = request.headers['accept-encoding'];
    if (encodings !== undefined) offered[name] = encodings;
    request.resume();
    request.on('end', () => {
      const count = (requests[name] ?? 0) + 1;
      requests[name] = count;
      const json = { ...cors, 'content-type': 'application/json' };
      switch (name) {
        case 'retry-after':
        case 'retry-after-unexposed': {
          if (count > 1) break;
          // The second case leaves `retry-after` out of the headers a page may read.
          const exposed = name === 'retry-after' ? {} : { 'access-control-expose-headers': 'x-request-id' };
          response
            .writeHead(429, { ...json, ...exposed, 'retry-after': '1' })
            .end('{"error":{"message":"slow down","type":"rate_limit"}}');
          return;
        }
        case 'corrupt-gzip-503':
          response
            .writeHead(503, {
              ...json,
              'content-encoding': 'gzip',
              'content-length': CORRUPT_GZIP.length,
              'retry-after': '1',
            })
            .end(CORRUPT_GZIP);
          return;
        case 'cut-200':
          response.writeHead(200, { ...json, 'content-length': GOOD.length });
          response.write(GOOD.slice(0, 40), () => response.socket?.destroy());
          return;
        case 'reset-reused':
          if (count === 2) {
            response.socket?.destroy();
            return;
          }
          break;
        case 'stalled-200':
          response.writeHead(200, { ...json, 'content-length': GOOD.length });
          response.write(GOOD.slice(0, 4));
          return;
        case 'gzip-200':
          response
            .writeHead(200, { ...json, 'content-encoding': 'gzip', 'content-length': GOOD_GZIP.length })
            .end(GOOD_GZIP);
          return;
        case 'oversized-200':
          response.writeHead(200, json);
          stream(name, response, Buffer.alloc(64 * 1024, 0x20));
          return;
        case 'gzip-bomb':
          response.writeHead(200, { ...json, 'content-encoding': 'gzip' });
          response.write(GZIP_HEADER);
          stream(name, response, block);
          return;
      }
      response.writeHead(200, json).end(GOOD);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    offered,
    written,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Outcomes = Partial<Record<FaultCase, FaultOutcome>>;

/** How each runtime runs the cases: Node here, in this process; the others as the smoke tests start them. */
const RUNNERS: {
  name: string;
  run(settings: FaultSettings, context: { skip(note?: string): void }): Promise<Outcomes | undefined>;
}[] = [
  { name: 'node', run: (settings) => runFaults(settings) },
  ...RUNTIMES.map((runtime) => ({
    name: runtime.name,
    async run(settings: FaultSettings, context: { skip(note?: string): void }) {
      const binary = requireRuntime(runtime.find(), context);
      if (binary === undefined) return undefined;
      const outcome = await runProcess(binary, runtime.args(FAULTS_RUNNER), {
        EMBEDKIT_SMOKE_SETTINGS: JSON.stringify({ faults: settings }),
      });
      const line = outcome.stdout.trim().split('\n').pop() ?? '';
      const report = JSON.parse(line === '' ? '{"ok":false,"error":"no output"}' : line) as
        | { ok: true; result: Outcomes }
        | { ok: false; error: string };
      if (!report.ok) throw new Error(`${runtime.name} failed: ${report.error}\n${outcome.stderr}`);
      return report.result;
    },
  })),
  {
    name: 'chromium',
    async run(settings: FaultSettings, context: { skip(note?: string): void }) {
      const binary = requireRuntime(findChromium(), context);
      if (binary === undefined) return undefined;
      const page = await startPageServer(
        pageFiles({ faults: settings }, await bundle('browser.ts', { platform: 'browser' })),
      );
      try {
        const { report, console } = await runInChromium<Outcomes>(binary, page.url);
        if (!report.ok) throw new Error(`the page failed: ${report.error}\n${console.join('\n')}`);
        return report.result;
      } finally {
        await page.close();
      }
    },
  },
];

describe.each(RUNNERS)('$name', (runner) => {
  let server: FaultServer;
  let outcomes: Promise<Outcomes | undefined>;
  /** A skip asked for while the cases ran (the runtime is not installed here), to pass on to each test. */
  let skipped: string | undefined;

  beforeAll(async () => {
    mkdirSync(join(RUNTIMES_ROOT, '.smoke'), { recursive: true });
    writeFileSync(FAULTS_RUNNER, await bundle('run.ts', { platform: 'neutral', external: ['@embedkit/*'] }));
    server = await startFaultServer(await inflatingBlock());
    outcomes = runner.run(
      { origin: server.origin, apiKey: KEY },
      {
        skip: (note) => {
          skipped = note ?? 'skipped';
        },
      },
    );
    await outcomes.catch(() => {});
  });
  afterAll(() => server.close());

  /** The outcome of one case, or a skip of the test when the runtime is not installed here. */
  async function outcome(name: FaultCase, context: { skip(note?: string): void }): Promise<FaultOutcome> {
    const all = await outcomes;
    if (all === undefined) context.skip(skipped);
    return all![name]!;
  }

  /** A case that failed twice on the network (no status), retried once: a `ConnectionError` each time. */
  function expectConnectionFailureRetried(name: FaultCase, result: FaultOutcome): void {
    expect(result.vector).toBeUndefined();
    expect(server.requests[name]).toBe(2);
    expect(result.error).toMatchObject({
      name: 'RetryError',
      code: 'retries_exhausted',
      attempts: 2,
      last: { name: 'ConnectionError', code: 'connection', isRetryable: true },
    });
    expect(result.error?.last?.statusCode).toBeUndefined();
    expect(result.retries.map(({ attempt, error }) => [attempt, error.name])).toEqual([
      [1, 'ConnectionError'],
    ]);
  }

  /** A case refused at maxResponseBytes (1 MB) on its first attempt, not retried. */
  function expectRefusedAtCap(name: FaultCase, result: FaultOutcome): void {
    expect(result.vector).toBeUndefined();
    expect(server.requests[name]).toBe(1);
    expect(result.error).toEqual({
      name: 'InvalidResponseError',
      code: 'invalid_response',
      isRetryable: false,
      message:
        'openai sent a response larger than 1000000 bytes; raise maxResponseBytes or send fewer inputs per call.',
    });
    expect(result.retries).toEqual([]);
  }

  it('a 429 with Retry-After: 1 then a 200: the call succeeds after the wait, with one retry of exactly 1,000 ms', async (context) => {
    const result = await outcome('retry-after', context);
    expect(result.vector).toBe(7);
    expect(result.error).toBeUndefined();
    expect(result.retries).toEqual([
      {
        attempt: 1,
        delayMs: 1_000,
        error: {
          name: 'RateLimitError',
          code: 'rate_limited',
          isRetryable: true,
          statusCode: 429,
          retryAfterMs: 1_000,
          message:
            'openai API error 429: slow down — Lower concurrency or set rateLimit; the engine retries these.',
        },
      },
    ]);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(result.elapsedMs).toBeLessThan(10_000);
    expect(server.requests['retry-after']).toBe(2);
  });

  it('a 429 whose Retry-After a page may not read (CORS) waits the backoff in Chromium and the header everywhere else', async (context) => {
    const result = await outcome('retry-after-unexposed', context);
    expect(result.vector).toBe(7);
    expect(server.requests['retry-after-unexposed']).toBe(2);
    expect(result.retries).toHaveLength(1);
    const retry = result.retries[0]!;
    expect(retry.error.name).toBe('RateLimitError');
    expect(retry.error.statusCode).toBe(429);
    if (runner.name === 'chromium') {
      // A browser's fetch shows a cross-origin answer only the headers the server lists in
      // Access-Control-Expose-Headers (and the CORS-safelisted ones, which Retry-After is not): the wait
      // is unknown to the page, so the engine waits its own first backoff, at most 500 ms.
      expect(retry.error.retryAfterMs).toBeUndefined();
      expect(retry.delayMs).toBeLessThanOrEqual(500);
    } else {
      expect(retry.error.retryAfterMs).toBe(1_000);
      expect(retry.delayMs).toBe(1_000);
    }
  });

  it('a 503 whose gzip body does not decompress is a ServerError of the 503, retried after its Retry-After', async (context) => {
    const result = await outcome('corrupt-gzip-503', context);
    expect(result.vector).toBeUndefined();
    expect(server.requests['corrupt-gzip-503']).toBe(2);
    expect(result.error).toMatchObject({
      name: 'RetryError',
      code: 'retries_exhausted',
      attempts: 2,
      statusCode: 503,
      retryAfterMs: 1_000,
      last: {
        name: 'ServerError',
        code: 'server_error',
        isRetryable: true,
        statusCode: 503,
        retryAfterMs: 1_000,
      },
    });
    // Node's undici and Bun's DecompressionStream (the transport decompresses in Bun) name the failure by
    // its code; Deno's and a browser's fetch give it none (a browser says only "network error"), so the
    // body is said to be unreadable, their reason kept.
    expect(result.error?.last?.message).toMatch(
      runner.name === 'node' || runner.name === 'bun'
        ? /^openai API error 503: its compressed body does not decompress \(.+\) — The API failed on its side; every retry failed: try again later, or raise maxRetries\.$/
        : /^openai API error 503: its body could not be read whole \(.+\) — The API failed on its side; every retry failed: try again later, or raise maxRetries\.$/,
    );
    expect(result.retries.map(({ attempt, delayMs, error }) => [attempt, delayMs, error.name])).toEqual([
      [1, 1_000, 'ServerError'],
    ]);
  });

  it('a 200 whose JSON body is cut short by a destroyed socket is a retryable ConnectionError, retried', async (context) => {
    expectConnectionFailureRetried('cut-200', await outcome('cut-200', context));
  });

  it('a kept-alive connection closed before any answer: the engine retries once, except where the runtime sends the request again itself (Deno, Chromium)', async (context) => {
    const result = await outcome('reset-reused', context);
    expect(result.vector).toBe(7);
    expect(result.error).toBeUndefined();
    // The warm-up call, the request the server read and dropped, and the one that went through.
    expect(server.requests['reset-reused']).toBe(3);
    if (runner.name === 'deno' || runner.name === 'chromium') {
      // Deno's and Chromium's fetch send a request again on a new connection when a reused one closes
      // before answering, POSTs included: the engine never hears of the first, so neither onRetry nor
      // maxRetries counts it.
      expect(result.retries).toEqual([]);
    } else {
      expect(result.retries.map(({ attempt, error }) => [attempt, error.name, error.code])).toEqual([
        [1, 'ConnectionError', 'connection'],
      ]);
    }
  });

  it('a 200 whose body stalls after the headers ends at timeoutMs (500) as a TimeoutError, retried once', async (context) => {
    const result = await outcome('stalled-200', context);
    expect(result.vector).toBeUndefined();
    expect(server.requests['stalled-200']).toBe(2);
    expect(result.error).toMatchObject({
      name: 'RetryError',
      code: 'retries_exhausted',
      attempts: 2,
      last: {
        name: 'TimeoutError',
        code: 'timeout',
        isRetryable: true,
        message:
          'openai model text-embedding-3-small did not answer within 500 ms (timeoutMs). — every retry failed: try again later, or raise maxRetries.',
      },
    });
    expect(result.retries.map(({ attempt, error }) => [attempt, error.name])).toEqual([[1, 'TimeoutError']]);
    // Two attempts of 500 ms and one backoff of at most 500 ms: no hang.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(result.elapsedMs).toBeLessThan(5_000);
  });

  it('a 200 of 64 MiB refused at maxResponseBytes (1 MB) is an InvalidResponseError, its connection closed before the rest is sent', async (context) => {
    expectRefusedAtCap('oversized-200', await outcome('oversized-200', context));
    // A runtime that read a refused body on to its end (Bun does, after a cancel) would have let all of it be written.
    expect(await server.written['oversized-200']).toBe(false);
  });

  it('a 200 whose JSON body comes gzip-compressed is read whole; Node and Bun offer gzip and br', async (context) => {
    const result = await outcome('gzip-200', context);
    expect(result.error).toBeUndefined();
    expect(result.vector).toBe(7);
    expect(result.retries).toEqual([]);
    expect(server.requests['gzip-200']).toBe(1);
    // Deno's and Chromium's fetch offer encodings of their own choosing.
    if (runner.name === 'node' || runner.name === 'bun') expect(server.offered['gzip-200']).toBe('gzip, br');
  });

  it('a gzip body that inflates far past maxResponseBytes is refused at once as an InvalidResponseError, not retried', async (context) => {
    expectRefusedAtCap('gzip-bomb', await outcome('gzip-bomb', context));
  });
});
