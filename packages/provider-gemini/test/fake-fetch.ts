import type { FetchFunction } from '@embedkit/core/provider';
import { expect } from 'vitest';

/** A fake key in Gemini's shape; no message, body or URL may contain it. */
export const FAKE_KEY = 'AIza-test-not-a-real-key';

export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON, a string as is. */
  body?: unknown;
  /** Never answer: the request ends only when its signal aborts (with the signal's reason). */
  hang?: boolean;
}

/**
 * A `fetch` that records every request and answers from `reply` (a function of the request, or a list
 * answered in order). An unexpected extra request fails the test.
 */
export function fakeFetch(reply: FakeReply[] | ((request: SentRequest, index: number) => FakeReply)) {
  const sent: SentRequest[] = [];
  /** The signal each request was sent with, by request. */
  const signals: (AbortSignal | undefined)[] = [];
  const fetch: FetchFunction = async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const request: SentRequest = {
      method: init.method ?? 'GET',
      url,
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    const index = sent.length;
    sent.push(request);
    const signal = init.signal ?? undefined;
    signals.push(signal);
    const answer = typeof reply === 'function' ? reply(request, index) : reply[index];
    if (answer === undefined) throw new Error(`unexpected request ${index}: ${request.method} ${url}`);
    if (answer.hang === true) {
      return new Promise<Response>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const body =
      answer.body === undefined
        ? ''
        : typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body);
    return new Response(body, {
      status: answer.status ?? 200,
      headers: { 'content-type': 'application/json; charset=UTF-8', ...answer.headers },
    });
  };
  return { fetch, sent, signals };
}

/** `count` values: `head` first, then zeros. */
export function values(count: number, head: number[]): number[] {
  return [...head, ...new Array<number>(count - head.length).fill(0)];
}

/** The error `promise` rejects with; the test fails if it fulfils. */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  return expect.fail('the call had to fail');
}

/**
 * A batch job's operation as the API answers `get`: `state` in its metadata (with `extra` beside it) and
 * `top` beside the metadata (an `output`, a `done`).
 */
export function batchOperation(
  state: string,
  extra: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): FakeReply {
  return {
    body: {
      name: 'batches/job-42',
      metadata: { model: 'models/gemini-embedding-001', name: 'batches/job-42', state, ...extra },
      ...top,
    },
  };
}

/**
 * The 429 the Gemini API sends for a used-up quota named by `quotaId`, with its three details (the quota,
 * help, and a `RetryInfo` of `retryDelay`, last) and `message`.
 */
export function quotaExhausted(quotaId: string, retryDelay: string, message: string) {
  return {
    status: 429,
    body: {
      error: {
        code: 429,
        message,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/embed_content_free_tier_requests',
                quotaId,
                quotaDimensions: { location: 'global', model: 'gemini-embedding-001' },
                quotaValue: '1000',
              },
            ],
          },
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [
              {
                description: 'Learn more about Gemini API quotas',
                url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
        ],
      },
    },
  };
}
