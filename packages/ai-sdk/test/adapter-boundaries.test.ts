/**
 * What crosses the adapters at their boundaries. fromAISDK: an error the AI SDK provider throws that is
 * not one of the AI SDK's reaches the caller as a redacted copy of the same class, so that the thrown
 * object (frozen or not) is left as it was and no secret gets through. toAISDK: embedkit's failures are
 * retried by embedkit alone, never by the AI SDK's loop on top, and the warnings of one embedMany.
 */
import { inspect } from 'node:util';
import { APICallError } from '@ai-sdk/provider';
import { createFakeClock } from '@embedkit/conformance';
import { AuthenticationError, embedMany as embedkitEmbedMany, RetryError } from '@embedkit/core';
import { MockEmbeddingModel, rejectionOf } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { embedMany } from 'ai';
import { describe, expect, it } from 'vitest';
import { fromAISDK, type ToAISDKSettings, toAISDK } from '../src/index.js';
import { handMade } from './hand-made-model.js';
import { openAIWireFetch, type Step } from './openai-wire-fetch.js';

const KEY = 'sk-fake-not-a-real-key-boundaries';
const CAUSE_KEY = 'sk-fake-not-a-real-key-in-the-cause';

/** Every text of an error a user may print or log. */
function texts(error: Error): string[] {
  return [error.message, String(error.stack), inspect(error, { depth: 8 }), JSON.stringify(error)];
}

/** A provider's own error class, with a code of its own. */
class ProviderBug extends Error {
  override name = 'ProviderBug';
  readonly code = 'E_PROVIDER_BUG';
}

function throwing(error: unknown) {
  return fromAISDK(
    handMade(async () => {
      throw error;
    }),
    {},
    { secrets: [KEY, CAUSE_KEY] },
  );
}

describe('fromAISDK: an error of the provider that quotes a secret', () => {
  it('reaches the caller redacted even when the provider froze it, and the frozen error keeps its text', async () => {
    const thrown = Object.freeze(
      Object.assign(new TypeError(`invalid header value Bearer ${KEY}`), { code: 'E_HEADER' }),
    );
    const error = await rejectionOf(embedkitEmbedMany({ model: throwing(thrown), inputs: ['x'] }));
    expect(error).not.toBe(thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('TypeError');
    expect(error.code).toBe('E_HEADER');
    expect(error.message).toBe('invalid header value Bearer [REDACTED]');
    expect(String(error.stack).split('\n')[0]).toBe('TypeError: invalid header value Bearer [REDACTED]');
    for (const text of texts(error)) expect(text).not.toContain(KEY);
    expect(thrown.message).toBe(`invalid header value Bearer ${KEY}`);
  });

  it('is a copy of the same class, its causes copied redacted, and leaves the thrown error and its cause as they were', async () => {
    const cause = new Error(`the cause quotes ${CAUSE_KEY}`);
    const thrown = new ProviderBug(`sent ${KEY}`, { cause });
    const stack = thrown.stack;
    const error = await rejectionOf(
      embedkitEmbedMany({ model: throwing(thrown), inputs: ['x'], maxRetries: 2 }),
    );
    expect(error).toBeInstanceOf(ProviderBug);
    expect(error.name).toBe('ProviderBug');
    expect(error.code).toBe('E_PROVIDER_BUG');
    expect(error.message).toBe('sent [REDACTED]');
    expect(String(error.stack).split('\n')[0]).toBe('ProviderBug: sent [REDACTED]');
    const copiedCause = error.cause as Error;
    expect(copiedCause).not.toBe(cause);
    expect(copiedCause).toBeInstanceOf(Error);
    expect(copiedCause.message).toBe('the cause quotes [REDACTED]');
    for (const text of texts(error)) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(CAUSE_KEY);
    }
    expect(thrown.message).toBe(`sent ${KEY}`);
    expect(thrown.stack).toBe(stack);
    expect(thrown.cause).toBe(cause);
    expect(cause.message).toBe(`the cause quotes ${CAUSE_KEY}`);
  });

  it('keeps a DOMException’s name and code on the copy', async () => {
    const thrown = new DOMException(`refused ${KEY}`, 'NotSupportedError');
    const error = await rejectionOf(embedkitEmbedMany({ model: throwing(thrown), inputs: ['x'] }));
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('NotSupportedError');
    expect(error.code).toBe(9);
    expect(error.message).toBe('refused [REDACTED]');
    expect(thrown.message).toBe(`refused ${KEY}`);
  });
});

const TEST_KEY = 'sk-fake-not-a-real-key-retries';
const limited: Step = {
  status: 429,
  body: { error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } },
};

function openAIModel(steps: Step[], settings: ToAISDKSettings) {
  const server = openAIWireFetch(steps);
  const model = createOpenAI({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('text-embedding-3-small');
  return { model: toAISDK(model, settings), requests: server.requests };
}

describe('toAISDK: failures under the AI SDK’s default maxRetries (2)', () => {
  it('answers two 429s then a vector after three requests, embedkit’s retries alone', async () => {
    const clock = createFakeClock();
    const { model, requests } = openAIModel([limited, limited, 'answer'], { clock });
    const result = await embedMany({ model, values: ['x'] });
    expect(requests).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
    expect(result.embeddings).toHaveLength(1);
  });

  it('makes maxRetries + 1 requests for a 429 that lasts, not three times as many', async () => {
    const clock = createFakeClock();
    const { model, requests } = openAIModel([limited], { maxRetries: 1, clock });
    const error = await rejectionOf(embedMany({ model, values: ['x'] }));
    expect(requests).toHaveLength(2);
    expect(RetryError.isInstance(error)).toBe(true);
    expect(error.code).toBe('retries_exhausted');
    expect(APICallError.isInstance(error)).toBe(false);
  });

  it('makes one request for a 401, handed on as embedkit’s AuthenticationError with the APICallError’s field names', async () => {
    const { model, requests } = openAIModel(
      [{ status: 401, body: { error: { message: 'bad key', type: 'invalid_request_error' } } }],
      {},
    );
    const error = await rejectionOf(embedMany({ model, values: ['x'] }));
    expect(requests).toHaveLength(1);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.code).toBe('authentication');
    expect(error.statusCode).toBe(401);
    expect(error.isRetryable).toBe(false);
    expect(error.url).toBe('https://api.openai.com/v1/embeddings');
    expect(APICallError.isInstance(error)).toBe(false);
  });
});

describe('toAISDK: the warnings of one AI SDK embedMany', () => {
  const documentType = { embedkit: { inputType: 'document' } };
  const warning = {
    type: 'unsupported',
    feature: 'inputType',
    details: 'mock model mock-embedding has no "document" input type; the inputs were sent without one.',
  };

  it.each([
    ['once over all the HTTP calls of the default single doEmbed', { maxInputsPerCall: 2 }, 1],
    [
      'once per chunk with a finite maxEmbeddingsPerCall, as the AI SDK joins the chunks’ warnings',
      { maxEmbeddingsPerCall: 2 },
      3,
    ],
  ] as const)('carry a warning every call gets %s', async (_label, settings, times) => {
    const mock = new MockEmbeddingModel({ capabilities: { inputTypes: [] } });
    const result = await embedMany({
      model: toAISDK(mock, settings),
      values: ['a', 'b', 'c', 'd', 'e'],
      providerOptions: documentType,
    });
    expect(mock.calls).toHaveLength(3);
    expect(result.warnings).toStrictEqual(Array.from({ length: times }, () => warning));
  });
});
