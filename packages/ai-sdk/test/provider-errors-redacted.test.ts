/**
 * An error the AI SDK provider throws that is neither an AI SDK error nor a network failure (a bug, or
 * the `TypeError` of `fetch` refusing a header that holds the key) is handed on as what it is, with its
 * message and stack, and those of its causes, redacted as every other error of fromAISDK is.
 */
import { inspect } from 'node:util';
import { createOpenAI } from '@ai-sdk/openai';
import { embedMany } from '@embedkit/core';
import { rejectionOf } from '@embedkit/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromAISDK } from '../src/index.js';
import { handMade } from './hand-made-model.js';

const FIRST = 'sk-fake-not-a-real-key-first-line';
const SECOND = 'sk-fake-not-a-real-key-second-line';
const HEADER_KEY = 'sk-fake-not-a-real-key-in-a-header';
const EXPLICIT = 'sk-fake-not-a-real-key-explicit';

/** Every text of an error a user may print or log. */
function texts(error: Error): string[] {
  return [error.message, String(error.stack), inspect(error, { depth: 8 }), JSON.stringify(error)];
}

describe('fromAISDK: an error that is neither an AI SDK error nor a network failure', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is redacted of an environment key quoted by the refusal of the header that holds it', async () => {
    // Two keys pasted into the variable: the line break makes the authorization header invalid.
    vi.stubEnv('OPENAI_API_KEY', `${FIRST}\n${SECOND}`);
    const requests: string[] = [];
    // The AI SDK builds the headers before any request, the way fetch does, and so refuses the key first.
    const openai = createOpenAI({
      fetch: async (url) => {
        requests.push(String(url));
        throw new Error('no request leaves the machine');
      },
    });
    const error = await rejectionOf(
      embedMany({
        model: fromAISDK(openai.embedding('text-embedding-3-small')),
        inputs: ['x'],
        maxRetries: 2,
      }),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('TypeError');
    expect(error.code).toBeUndefined();
    expect(error.message).toBe('Headers.append: "Bearer [REDACTED]" is an invalid header value.');
    expect(requests).toStrictEqual([]);
    for (const text of texts(error)) {
      expect(text).not.toContain(FIRST);
      expect(text).not.toContain(SECOND);
    }
  });

  it('is a copy of the same class, its message, stack and causes redacted of the header keys and the given secrets', async () => {
    const cause = new Error(`the cause quotes ${EXPLICIT}`);
    const thrown = new Error(`sent x-api-key ${HEADER_KEY}`, { cause });
    const model = handMade(async () => {
      throw thrown;
    });
    const error = await rejectionOf(
      embedMany({
        model: fromAISDK(model, {}, { secrets: [EXPLICIT] }),
        inputs: ['x'],
        headers: { 'X-Api-Key': HEADER_KEY },
        maxRetries: 2,
      }),
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('Error');
    expect(error.code).toBeUndefined();
    expect(error.message).toBe('sent x-api-key [REDACTED]');
    expect(String(error.stack).split('\n')[0]).toBe('Error: sent x-api-key [REDACTED]');
    const copiedCause = error.cause as Error;
    expect(copiedCause.message).toBe('the cause quotes [REDACTED]');
    expect(String(copiedCause.stack).split('\n')[0]).toBe('Error: the cause quotes [REDACTED]');
    expect(model.calls).toHaveLength(1);
    for (const text of texts(error)) {
      expect(text).not.toContain(HEADER_KEY);
      expect(text).not.toContain(EXPLICIT);
    }
  });

  it('is handed on untouched when it quotes no secret', async () => {
    const thrown = new TypeError('values.map is not a function');
    const stack = thrown.stack;
    const error = await rejectionOf(
      embedMany({ model: fromAISDK(handMade(async () => Promise.reject(thrown))), inputs: ['x'] }),
    );
    expect(error).toBe(thrown);
    expect(error.message).toBe('values.map is not a function');
    expect(error.stack).toBe(stack);
  });
});
