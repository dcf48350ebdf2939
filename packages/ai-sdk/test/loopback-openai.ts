import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimitError, RetryError } from '@embedkit/core';
import { expect } from 'vitest';
import { answerData } from './openai-wire-fetch.js';

/** One request body as the loopback server read it. */
export interface LoopbackBody {
  model: string;
  input: string[];
  encoding_format?: string;
  dimensions?: number;
}

export interface LoopbackOpenAI {
  /** The API root to hand the provider (`http://127.0.0.1:<port>/v1`). */
  baseURL: string;
  /** Every request body, in the order they arrived. */
  bodies: LoopbackBody[];
  /** The most requests the server held unanswered at one time. */
  maxInFlight(): number;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Requests held until this many are waiting; the bound the test expects. */
  holdUntil: number;
  /** How long the server keeps them after that, so that a client sending more at once shows it. Default 25 ms. */
  graceMs?: number;
  /** Fewer than `holdUntil` waiting are answered after this long (the last ones of a run). Default 500 ms. */
  fallbackMs?: number;
}

/**
 * An OpenAI `/v1/embeddings` server on the loopback interface that measures the requests in flight, as
 * the server sees them. It holds requests until `holdUntil` are waiting, so a client allowed that many
 * reaches the bound on any machine, then answers them all `graceMs` later; requests the client sent
 * beyond the bound arrive in that time and count. Each input gets `vectorFor(text, dimensions)`, and
 * usage counts one token per input.
 */
export async function startLoopbackOpenAI(options: LoopbackOptions): Promise<LoopbackOpenAI> {
  const { holdUntil, graceMs = 25, fallbackMs = 500 } = options;
  const bodies: LoopbackBody[] = [];
  let held: { body: LoopbackBody; response: ServerResponse }[] = [];
  let maxInFlight = 0;
  let timer: { handle: NodeJS.Timeout; grace: boolean } | undefined;

  const answerHeld = () => {
    timer = undefined;
    const answering = held;
    held = [];
    for (const { body, response } of answering) {
      const data = answerData(body);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          data,
          model: body.model,
          usage: { prompt_tokens: body.input.length, total_tokens: body.input.length },
        }),
      );
    }
  };

  const server = createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
    });
    request.on('end', () => {
      const body = JSON.parse(text) as LoopbackBody;
      bodies.push(body);
      held.push({ body, response });
      maxInFlight = Math.max(maxInFlight, held.length);
      if (held.length >= holdUntil) {
        if (timer?.grace) return;
        if (timer !== undefined) clearTimeout(timer.handle);
        timer = { handle: setTimeout(answerHeld, graceMs), grace: true };
      } else if (timer === undefined) {
        timer = { handle: setTimeout(answerHeld, fallbackMs), grace: false };
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    bodies,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer !== undefined) clearTimeout(timer.handle);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback server that answers every request alike, and counts them. */
export interface CountingLoopback {
  /** The API root to hand the provider (`http://127.0.0.1:<port>/v1`). */
  baseURL: string;
  /** How many requests have arrived whole. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * An OpenAI-like server whose every answer is a 429 (`retry-after-ms: 30`) that closes the connection
 * part-way through its body: the status and the wait arrive, the body does not.
 */
export async function startCutRateLimitServer(): Promise<CountingLoopback> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests++;
      response.writeHead(429, {
        'content-type': 'application/json',
        'content-length': '200',
        'retry-after-ms': '30',
      });
      response.write('{"error":{"mess', () => response.socket?.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The message of the cut 429 with retries off; `cause` is how the runtime reported the cut body. */
export function cutRateLimitMessage(cause: string): string {
  return `openai API error 429: its body could not be read whole (${cause}) — Lower concurrency or set rateLimit; retries are turned off (maxRetries 0), so none was made.`;
}

/** The error of the cut 429: its class, code, status and the wait its headers named. */
export function expectCutRateLimit(error: Error & Record<string, unknown>): void {
  expect(RateLimitError.isInstance(error)).toBe(true);
  expect(error.code).toBe('rate_limited');
  expect(error.statusCode).toBe(429);
  expect(error.retryAfterMs).toBe(30);
}

/** The RetryError of one retry of it: its last error the cut 429, after 3 requests in all (`sent`). */
export function expectRetriedCutRateLimit(retried: Error & Record<string, unknown>, sent: number): void {
  expect(RetryError.isInstance(retried)).toBe(true);
  expect(retried.code).toBe('retries_exhausted');
  expectCutRateLimit(retried.lastError as Error & Record<string, unknown>);
  expect(sent).toBe(3);
}
