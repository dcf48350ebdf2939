/**
 * Credentials sent in a call's headers, kept out of the errors both ways: fromAISDK redacts the values
 * of the credential headers a call carried from whatever the AI SDK provider's error quotes, as
 * embedkit's own providers do, and toAISDK's errors do the same for headers the AI SDK passes. Also what
 * an AI SDK caller meets at the edges: an empty value is refused before any request.
 */
import { inspect } from 'node:util';
import { LoadSettingError } from '@ai-sdk/provider';
import { AuthenticationError, embedMany, InvalidArgumentError } from '@embedkit/core';
import { rejectionOf } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { embed } from 'ai';
import { describe, expect, it } from 'vitest';
import { fromAISDK, toAISDK } from '../src/index.js';
import { handMade } from './hand-made-model.js';
import { openAIWireFetch } from './openai-wire-fetch.js';
import { apiCallError } from './rejection.js';

const HEADER_KEY = 'sk-fake-not-a-real-key-in-a-header';
const KEY = 'sk-fake-not-a-real-key-edges';

function failing(error: unknown) {
  return fromAISDK(
    handMade(async () => {
      throw error;
    }),
  );
}

/** Every text of an error a user may print or log. */
function texts(error: Error & Record<string, unknown>): string[] {
  return [
    error.message,
    String(error.responseBody),
    String(error.stack),
    inspect(error, { depth: 8 }),
    JSON.stringify(error),
  ];
}

describe('fromAISDK: credentials sent in the headers of a call', () => {
  it('are redacted from an APICallError whose message and body quote them', async () => {
    const echo = `invalid key ${HEADER_KEY}`;
    const error = await rejectionOf(
      embedMany({
        model: failing(
          apiCallError({ message: echo, statusCode: 401, responseBody: JSON.stringify({ message: echo }) }),
        ),
        inputs: ['x'],
        headers: { authorization: `Bearer ${HEADER_KEY}` },
      }),
    );
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.code).toBe('authentication');
    expect(error.message).toBe(
      'acme API error 401: invalid key [REDACTED] — Check that the API key is set, current and meant for this host.',
    );
    for (const text of texts(error)) expect(text).not.toContain(HEADER_KEY);
  });

  it('are redacted from an AI SDK error raised before any request', async () => {
    const error = await rejectionOf(
      embedMany({
        model: failing(new LoadSettingError({ message: `no resource for key ${HEADER_KEY}` })),
        inputs: ['x'],
        headers: { 'X-Api-Key': HEADER_KEY },
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('acme: no resource for key [REDACTED]');
    for (const text of texts(error)) expect(text).not.toContain(HEADER_KEY);
  });
});

describe('toAISDK: what an AI SDK caller meets', () => {
  it('keeps a credential the AI SDK call sent in its headers out of the error that echoes it', async () => {
    const server = openAIWireFetch([
      { status: 401, body: { error: { message: `bad key ${HEADER_KEY}`, type: 'invalid_request_error' } } },
    ]);
    const model = toAISDK(
      createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small'),
    );
    const error = await rejectionOf(embed({ model, value: 'x', headers: { 'X-Api-Key': HEADER_KEY } }));
    expect(server.requests[0]!.headers['x-api-key']).toBe(HEADER_KEY);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(401);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toBe(
      'openai API error 401: bad key [REDACTED] — Check that the API key is set, current and meant for this host.',
    );
    for (const text of texts(error)) {
      expect(text).not.toContain(HEADER_KEY);
      expect(text).not.toContain(KEY);
    }
  });

  it('refuses an empty value with an InvalidArgumentError before any request', async () => {
    const server = openAIWireFetch();
    const model = toAISDK(
      createOpenAI({ apiKey: KEY, fetch: server.fetch }).embedding('text-embedding-3-small'),
    );
    const error = await rejectionOf(embed({ model, value: '' }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.message).toBe('Input 0 is an empty string; embedding APIs reject empty inputs.');
    expect(server.requests).toEqual([]);
  });
});
