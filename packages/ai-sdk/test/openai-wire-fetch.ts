import { vectorFor } from '@embedkit/conformance';
import { type FetchFunction, float32ToBase64 } from '@embedkit/core/provider';

/** One request as the fake OpenAI server saw it. */
export interface SeenRequest {
  url: string;
  headers: Record<string, string>;
  body: { model: string; input: string[]; encoding_format?: string; dimensions?: number; user?: string };
  signal: AbortSignal | undefined;
}

/** What the server does with the request at this position: answer it, fail it, or never answer. */
export type Step =
  | 'answer'
  | 'hang'
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { reverse: true };

/**
 * A fake OpenAI `/embeddings` server as a `fetch`: each input gets `vectorFor(text, dimensions)` (base64
 * or floats, as asked), usage counts one token per input, and `steps[n]` overrides the n-th request (the
 * last step repeats; `answer` when none). Every request is recorded.
 */
/**
 * The `data` of an OpenAI answer to `body`: `vectorFor(text, dimensions)` per input, in the encoding it
 * asked for (text-embedding-3-small's full length, 1,536, when it asked none).
 */
export function answerData(body: { input: string[]; encoding_format?: string; dimensions?: number }) {
  const dimensions = body.dimensions ?? 1536;
  return body.input.map((text, index) => {
    const vector = vectorFor(text, dimensions);
    return {
      object: 'embedding',
      index,
      embedding: body.encoding_format === 'base64' ? float32ToBase64(vector) : vector,
    };
  });
}

export function openAIWireFetch(steps: Step[] = []): { fetch: FetchFunction; requests: SeenRequest[] } {
  const requests: SeenRequest[] = [];
  const fetch: FetchFunction = async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const body = JSON.parse(String(init.body)) as SeenRequest['body'];
    requests.push({ url, headers, body, signal: init.signal ?? undefined });
    const step = steps.length === 0 ? 'answer' : steps[Math.min(requests.length - 1, steps.length - 1)]!;
    if (step === 'hang') {
      return new Promise<Response>((_, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
      });
    }
    if (typeof step === 'object' && 'status' in step) {
      return new Response(JSON.stringify(step.body), {
        status: step.status,
        headers: { 'content-type': 'application/json', ...step.headers },
      });
    }
    const data = answerData(body);
    if (typeof step === 'object') data.reverse();
    return new Response(
      JSON.stringify({
        object: 'list',
        data,
        model: body.model,
        usage: { prompt_tokens: body.input.length, total_tokens: body.input.length },
      }),
      {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-request-id': `req-${requests.length}` },
      },
    );
  };
  return { fetch, requests };
}

/** The float32 values the fake server sends for `text`, as plain numbers. */
export function expectedVector(text: string, dimensions: number): number[] {
  return Array.from(Float32Array.from(vectorFor(text, dimensions)));
}
