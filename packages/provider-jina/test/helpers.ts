import type { FetchFunction } from '@embedkit/core';

/** A fake key in Jina's form (`jina_…`); never a real secret. */
export const TEST_KEY = 'jina_testkeyfake000000000000000000';

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

/** A `/v1/embeddings` success body holding the given vectors (base64 strings or number arrays) in order. */
export function embeddingsBody(model: string, vectors: (string | number[])[], totalTokens = 10) {
  return {
    model,
    object: 'list',
    usage: { total_tokens: totalTokens, prompt_tokens: totalTokens },
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
  };
}
