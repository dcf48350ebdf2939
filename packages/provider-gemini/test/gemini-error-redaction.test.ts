import { embedMany, NotFoundError } from '@embedkit/core';
import { describe, expect, it } from 'vitest';
import { createGemini } from '../src/index.js';
import { FAKE_KEY, failure, fakeFetch } from './fake-fetch.js';

function notFound(message: string) {
  return { status: 404, body: { error: { code: 404, message, status: 'NOT_FOUND' } } };
}

describe('the 404 hint, which quotes the model id the server named', () => {
  it('is redacted like the rest of the error when the id is the API key (a key passed as the model id)', async () => {
    const { fetch, sent } = fakeFetch([
      notFound(
        `models/${FAKE_KEY} is not found for API version v1beta, or is not supported for embedContent.`,
      ),
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding(FAKE_KEY);
    const error = await failure(embedMany({ model, inputs: ['a'], maxRetries: 0 }));
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error.message).toBe(
      'gemini API error 404: models/[REDACTED] is not found for API version v1beta, or is not supported for embedContent. — models/[REDACTED] is not served by this API version: check the id, or whether the model was retired; gemini-embedding-001 is current.',
    );
    expect(JSON.stringify(error)).not.toContain(FAKE_KEY);
    expect(String(error.stack)).not.toContain(FAKE_KEY);
    expect(sent).toHaveLength(1);
  });

  it('still names an ordinary model id as the server gave it', async () => {
    const { fetch } = fakeFetch([
      notFound('models/embedding-gecko-001 is not found for API version v1beta.'),
    ]);
    const model = createGemini({ apiKey: FAKE_KEY, fetch }).embedding('embedding-gecko-001');
    const error = await failure(embedMany({ model, inputs: ['a'], maxRetries: 0 }));
    expect(error.message).toBe(
      'gemini API error 404: models/embedding-gecko-001 is not found for API version v1beta. — models/embedding-gecko-001 is not served by this API version: check the id, or whether the model was retired; gemini-embedding-001 is current.',
    );
  });
});
