import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';
import { jinaEmbeddingProfile } from '../src/jina-options.js';
import { TEST_KEY } from './helpers.js';

describe('an id the package does not know gets only what every Jina model takes', () => {
  it('has no late chunking: its contextualized model is refused when it is made', () => {
    expect(jinaEmbeddingProfile('jina-embeddings-v9').lateChunking).toBe(false);
    expect(() => createJina({ apiKey: TEST_KEY }).contextualizedEmbedding('jina-embeddings-v9')).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        code: 'invalid_argument',
        argument: 'modelId',
        message:
          'jina model jina-embeddings-v9 has no late chunking; use jina-embeddings-v3 or jina-embeddings-v4.',
      }),
    );
  });
});

describe('images are held to the API’s 8 MB, 8,000,000 bytes', () => {
  const model = () => createJina({ apiKey: TEST_KEY }).embedding('jina-clip-v2');

  it.each([
    ['bytes of 8,000,001', new Uint8Array(8_000_001)],
    ['bytes of 8 MiB', new Uint8Array(8 * 1024 * 1024)],
    ['base64 of 8,000,001 bytes', Buffer.alloc(8_000_001).toString('base64')],
    ['a data URL of 8,000,001 bytes', `data:image/png;base64,${Buffer.alloc(8_000_001).toString('base64')}`],
  ])('refuses %s before sending', (_form, image) => {
    expect(() => model().checkInput({ image }, 2)).toThrow(
      expect.objectContaining({
        name: 'InvalidArgumentError',
        code: 'invalid_argument',
        argument: 'inputs[2]',
        message: 'inputs[2] is larger than the 8 MB Jina takes for an image.',
      }),
    );
  });

  it('takes an image of exactly 8,000,000 bytes', () => {
    expect(() => model().checkInput({ image: new Uint8Array(8_000_000) }, 0)).not.toThrow();
    expect(() => model().checkInput({ image: Buffer.alloc(8_000_000).toString('base64') }, 0)).not.toThrow();
  });
});
