import { embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createJina } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_B64 = 'iVBORw0KGgo=';
const vector = (length: number) => float32ToBase64(new Float32Array(length).fill(0.5));

describe('multimodal inputs (jina-embeddings-v4, jina-clip-v2)', () => {
  it('sends URLs as they are, bytes and data URLs as bare base64, and every text as {text}', async () => {
    const server = fakeFetch([
      { body: embeddingsBody('jina-embeddings-v4', new Array(6).fill(vector(2048)), 40) },
    ]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v4');
    const result = await embedMany({
      model,
      inputs: [
        'A beautiful sunset over the beach',
        { text: 'a second text' },
        { image: 'https://example.com/beach.jpg' },
        { image: PNG, mediaType: 'image/png' },
        { image: `data:image/png;base64,${PNG_B64}` },
        { content: [{ type: 'image', data: PNG, mediaType: 'image/png' }] },
      ],
      inputType: 'document',
    });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-embeddings-v4',
      input: [
        { text: 'A beautiful sunset over the beach' },
        { text: 'a second text' },
        { image: 'https://example.com/beach.jpg' },
        { image: PNG_B64 },
        { image: PNG_B64 },
        { image: PNG_B64 },
      ],
      task: 'retrieval.passage',
      embedding_type: 'base64',
      truncate: false,
    });
    expect(result.embeddings).toHaveLength(6);
    expect(result.usage).toEqual({ inputTokens: 40 });
  });

  it('a call with no image sends plain strings, {text} included', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-clip-v2', [vector(1024), vector(1024)]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-clip-v2');
    await embedMany({ model, inputs: ['a cat', { text: 'a dog' }], inputType: 'query' });
    expect(server.requests[0]!.body).toEqual({
      model: 'jina-clip-v2',
      input: ['a cat', 'a dog'],
      task: 'retrieval.query',
      embedding_type: 'base64',
      normalized: true,
      truncate: false,
    });
  });

  it('a bare base64 image string is sent as is; a one-part text content as {text}', async () => {
    const server = fakeFetch([{ body: embeddingsBody('jina-clip-v2', [vector(1024), vector(1024)]) }]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-clip-v2');
    await embedMany({
      model,
      inputs: [{ image: PNG_B64 }, { content: [{ type: 'text', text: 'caption' }] }],
    });
    expect((server.requests[0]!.body as { input: unknown }).input).toEqual([
      { image: PNG_B64 },
      { text: 'caption' },
    ]);
  });

  it.each([
    [
      'interleaved content',
      {
        content: [
          { type: 'text' as const, text: 'a' },
          { type: 'image' as const, url: 'https://example.com/a.png' },
        ],
      },
      'inputs[0]',
    ],
    ['a non-image media type', { image: PNG, mediaType: 'application/pdf' }, 'inputs[0]'],
    ['a non-image data URL', { image: 'data:text/plain;base64,aGVsbG8=' }, 'inputs[0]'],
    ['a string that is neither URL nor base64', { image: 'not an image!' }, 'inputs[0]'],
    ['empty bytes', { image: new Uint8Array(0) }, 'inputs[0]'],
    [
      'an image over 8 MB',
      { image: new Uint8Array(8 * 1024 * 1024 + 1), mediaType: 'image/png' },
      'inputs[0]',
    ],
    ['an empty text', { text: '' }, 'inputs[0]'],
  ])('rejects %s before any request', async (_label, input, argument) => {
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v4');
    await expect(model.doEmbed({ inputs: [input] })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument,
    });
    expect(server.requests).toEqual([]);
  });

  it('text-only models reject images before any request, through the engine and directly', async () => {
    const server = fakeFetch([]);
    const jina = createJina({ apiKey: TEST_KEY, fetch: server.fetch });
    for (const id of ['jina-embeddings-v3', 'jina-embeddings-v5-text-small', 'jina-code-embeddings-0.5b']) {
      const model = jina.embedding(id);
      expect(model.capabilities.modalities).toEqual(['text']);
      await expect(
        embedMany({ model, inputs: [{ image: 'https://example.com/a.png' }] }),
      ).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        argument: 'inputs[0]',
      });
      await expect(
        model.doEmbed({ inputs: ['ok', { image: PNG, mediaType: 'image/png' }] }),
      ).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        argument: 'inputs[1]',
      });
    }
    expect(server.requests).toEqual([]);
  });

  it('refuses a bad image in a job before its first call, named by its place in the job', async () => {
    // Checked call by call, the job sent its first call, then named the image inputs[0] (of its call).
    const server = fakeFetch([]);
    const model = createJina({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('jina-embeddings-v4');
    await expect(
      embedMany({
        model,
        inputs: ['a', 'b', { image: PNG, mediaType: 'application/pdf' }],
        maxInputsPerCall: 2,
      }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'inputs[2]',
      message: 'inputs[2] has media type application/pdf; Jina embeds image/* inputs.',
    });
    expect(server.requests).toEqual([]);
  });
});
