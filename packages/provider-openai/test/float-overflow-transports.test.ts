/**
 * Float answers read from the body bytes (`floatVectors`): OpenAI's `data[*].embedding` and Gemini's
 * `embeddings[*].values` and `embedding.values`. A number there beyond float32 reads as an infinity, which
 * the engine's one check of float values refuses; its message quotes the number as the answer sent it,
 * through either transport (undici and fetch, against a loopback server), as for an answer parsed whole.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { embedMany, InvalidResponseError } from '@embedkit/core';
import { rejectionOf } from '@embedkit/core/testing';
import { createGemini } from '@embedkit/provider-gemini';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAI } from '../src/index.js';

let server: Server;
let origin = '';
let answer = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-overflow' });
      response.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** 256 values of 0.5 (indented, as the Gemini API writes them), `sent` at position 7 when given. */
function values(sent?: string): string {
  const numbers = Array.from({ length: 256 }, (_, at) => (at === 7 && sent !== undefined ? sent : '0.5'));
  return `[\n${numbers.join(',\n')}\n]`;
}

const SENT = [
  ['1e39', '1e+39'],
  ['-3.5E+38', '-3.5e+38'],
  // 17 digits: read the approximate way, whose margin is an infinity at both ends.
  ['4.0000000000000001e38', '4e+38'],
];

describe.each(['undici', 'fetch'] as const)('through the %s transport', (transport) => {
  const settings = () => ({
    apiKey: 'sk-test-fake-overflow',
    ...(transport === 'fetch' ? { fetch: globalThis.fetch } : {}),
  });

  it.each(SENT)('OpenAI: %s is refused, quoted as %s (bug: "Infinity")', async (sent, quoted) => {
    const item = (index: number) =>
      `{"object":"embedding","index":${index},"embedding":${values(index === 1 ? sent : undefined)}}`;
    answer = `{"object":"list","data":[${item(0)},${item(1)}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}`;
    const openai = createOpenAI({ ...settings(), baseURL: `${origin}/v1`, encodingFormat: 'float' });
    const error = await rejectionOf(
      embedMany({
        model: openai.embedding('text-embedding-3-small'),
        inputs: ['a', 'b'],
        dimensions: 256,
        maxRetries: 0,
      }),
    );
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe(
      `openai returned vector 1 holding ${quoted} at position 7, not a finite number.`,
    );
    expect([error.statusCode, error.requestId]).toEqual([200, 'req-overflow']);
  });

  it.each(SENT)(
    'Gemini, a batch answer and a single one: %s is refused, quoted as %s',
    async (sent, quoted) => {
      const model = createGemini({ ...settings(), baseURL: `${origin}/v1beta` }).embedding(
        'gemini-embedding-001',
      );
      answer = `{"embeddings":[{"values":${values()}},{"values":${values(sent)}}]}`;
      const batch = await rejectionOf(
        embedMany({ model, inputs: ['a', 'b'], dimensions: 256, maxRetries: 0 }),
      );
      expect(batch).toBeInstanceOf(InvalidResponseError);
      expect(batch.message).toBe(
        `gemini returned vector 1 holding ${quoted} at position 7, not a finite number.`,
      );
      answer = `{"embedding":{"values":${values(sent)}}}`;
      const single = await rejectionOf(embedMany({ model, inputs: ['a'], dimensions: 256, maxRetries: 0 }));
      expect(single).toBeInstanceOf(InvalidResponseError);
      expect(single.message).toBe(
        `gemini returned vector 0 holding ${quoted} at position 7, not a finite number.`,
      );
    },
  );
});
