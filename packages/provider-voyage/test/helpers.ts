import type { FetchFunction } from '@embedkit/core';

/** A fake key in the Voyage dashboard form; never a real secret. */
export const TEST_KEY = 'pa-test-key-000000000000000000000';
/** A fake Atlas model API key (they begin `al-`). */
export const ATLAS_TEST_KEY = 'al-test-key-000000000000000000000';

export interface Captured {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * A `fetch` double that records each request and answers from `replies` in order (a status and a JSON
 * body, or a raw string). Throws when asked for more requests than it has replies.
 */
export function fakeFetch(replies: { status?: number; body: unknown; headers?: Record<string, string> }[]): {
  fetch: FetchFunction;
  requests: Captured[];
} {
  const requests: Captured[] = [];
  const fetch: FetchFunction = async (input, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    requests.push({
      url: input,
      method: init.method ?? 'GET',
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const reply = replies[requests.length - 1];
    if (reply === undefined) throw new Error(`unexpected request ${requests.length} to ${input}`);
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(text, {
      status: reply.status ?? 200,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };
  return { fetch, requests };
}

/** An `/embeddings`-shaped success body holding the given base64 vectors in order. */
export function embeddingsBody(model: string, vectors: (string | number[])[], totalTokens = 10) {
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', embedding, index })),
    model,
    usage: { total_tokens: totalTokens },
  };
}
