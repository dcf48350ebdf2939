import { type EmbedInput, embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createVoyage } from '../src/index.js';
import { embeddingsBody, fakeFetch, TEST_KEY } from './helpers.js';

const FULL = float32ToBase64(new Float32Array(1024).fill(0.25));
/** The first four bytes of every PNG file. */
const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);

const model = (fetch: ReturnType<typeof fakeFetch>['fetch'], id = 'voyage-multimodal-3') =>
  createVoyage({ apiKey: TEST_KEY, fetch }).multimodalEmbedding(id);

describe('voyage multimodal embeddings', () => {
  it('declares text and image', () => {
    expect(model(fakeFetch([]).fetch).capabilities.modalities).toEqual(['text', 'image']);
  });

  it('posts interleaved text and image URLs to /multimodalembeddings', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-multimodal-3', [FULL, FULL], 1200) }]);
    const result = await embedMany({
      model: model(server.fetch),
      inputs: [
        {
          content: [
            { type: 'text', text: 'This is a banana.' },
            { type: 'image', url: 'https://example.com/banana.jpg' },
          ],
        },
        'just text',
      ],
      inputType: 'document',
    });
    expect(server.requests[0]!.url).toBe('https://api.voyageai.com/v1/multimodalembeddings');
    expect(server.requests[0]!.body).toEqual({
      inputs: [
        {
          content: [
            { type: 'text', text: 'This is a banana.' },
            { type: 'image_url', image_url: 'https://example.com/banana.jpg' },
          ],
        },
        { content: [{ type: 'text', text: 'just text' }] },
      ],
      model: 'voyage-multimodal-3',
      input_type: 'document',
      truncation: false,
      output_encoding: 'base64',
    });
    expect(result.embeddings.map((vector) => [vector.length, vector[0]])).toEqual([
      [1024, 0.25],
      [1024, 0.25],
    ]);
    expect(result.usage).toEqual({ inputTokens: 1200 });
  });

  it('sends image bytes as base64 data URLs and passes data URLs through', async () => {
    const server = fakeFetch([{ body: embeddingsBody('voyage-multimodal-3.5', [FULL, FULL]) }]);
    await embedMany({
      model: model(server.fetch, 'voyage-multimodal-3.5'),
      inputs: [
        { image: PNG_BYTES, mediaType: 'image/png' },
        {
          content: [
            { type: 'text', text: 'a chart' },
            { type: 'image', url: 'data:image/webp;base64,UklGRg==' },
          ],
        },
      ],
      dimensions: 1024,
    });
    expect(server.requests[0]!.body).toEqual({
      inputs: [
        { content: [{ type: 'image_base64', image_base64: 'data:image/png;base64,iVBORw==' }] },
        {
          content: [
            { type: 'text', text: 'a chart' },
            { type: 'image_base64', image_base64: 'data:image/webp;base64,UklGRg==' },
          ],
        },
      ],
      model: 'voyage-multimodal-3.5',
      output_dimension: 1024,
      truncation: false,
      output_encoding: 'base64',
    });
  });

  it.each<[string, EmbedInput[], string]>([
    [
      'one input holding an image URL and image bytes',
      [
        'text',
        {
          content: [
            { type: 'image', url: 'https://example.com/a.png' },
            { type: 'image', data: PNG_BYTES, mediaType: 'image/png' },
          ],
        },
      ],
      'inputs[1]',
    ],
    ['image bytes without a media type', [{ image: PNG_BYTES }], 'inputs[0]'],
    ['a media type Voyage does not take', [{ image: PNG_BYTES, mediaType: 'image/bmp' }], 'inputs[0]'],
    ['an image that is neither URL nor data URL', [{ image: 'banana.jpg' }], 'inputs[0]'],
    ['an empty text part', [{ content: [{ type: 'text', text: '' }] }], 'inputs[0].content[0]'],
  ])('rejects %s before any request', async (_label, inputs, argument) => {
    const server = fakeFetch([]);
    await expect(model(server.fetch).doEmbed({ inputs })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument,
    });
    expect(server.requests).toEqual([]);
  });

  it('never mixes the two image forms in one request: the calls of a job change where the form does', async () => {
    // The API takes one form per request; a call mixing them was refused, and a job whose later calls
    // mixed them failed after its first calls were sent. Text alone goes with either form.
    const half = float32ToBase64(new Float32Array(1024).fill(0.5));
    const server = fakeFetch([
      { body: embeddingsBody('voyage-multimodal-3', [half], 5) },
      { body: embeddingsBody('voyage-multimodal-3', [FULL, FULL], 7) },
      { body: embeddingsBody('voyage-multimodal-3', [half, half], 11) },
    ]);
    const result = await embedMany({
      model: model(server.fetch),
      inputs: [
        { image: PNG_BYTES, mediaType: 'image/png' },
        { image: 'https://example.com/a.png' },
        'just text',
        { image: 'data:image/webp;base64,UklGRg==' },
        'more text',
      ],
      concurrency: 1,
    });
    expect(server.requests.map((request) => (request.body as { inputs: unknown }).inputs)).toEqual([
      [{ content: [{ type: 'image_base64', image_base64: 'data:image/png;base64,iVBORw==' }] }],
      [
        { content: [{ type: 'image_url', image_url: 'https://example.com/a.png' }] },
        { content: [{ type: 'text', text: 'just text' }] },
      ],
      [
        { content: [{ type: 'image_base64', image_base64: 'data:image/webp;base64,UklGRg==' }] },
        { content: [{ type: 'text', text: 'more text' }] },
      ],
    ]);
    expect(result.embeddings.map((vector) => vector[0])).toEqual([0.5, 0.25, 0.25, 0.5, 0.5]);
    expect(result.usage).toEqual({ inputTokens: 23 });
  });

  it('a direct call that mixes the two forms is refused before any request', async () => {
    const server = fakeFetch([]);
    await expect(
      model(server.fetch).doEmbed({
        inputs: [{ image: 'https://example.com/a.png' }, { image: PNG_BYTES, mediaType: 'image/png' }],
      }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'inputs' });
    expect(server.requests).toEqual([]);
  });

  it('voyage-multimodal-3 has a fixed length: dimensions is an error before sending', async () => {
    const server = fakeFetch([]);
    await expect(
      embedMany({ model: model(server.fetch), inputs: ['a'], dimensions: 512 }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'dimensions',
    });
    expect(server.requests).toEqual([]);
  });

  it('an image sent to a text-only model is an InvalidArgumentError before sending', async () => {
    const server = fakeFetch([]);
    const text = createVoyage({ apiKey: TEST_KEY, fetch: server.fetch }).embedding('voyage-3.5');
    await expect(
      embedMany({
        model: text,
        inputs: [{ content: [{ type: 'image', data: PNG_BYTES, mediaType: 'image/png' }] }],
      }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'inputs[0]' });
    expect(server.requests).toEqual([]);
  });

  it('refuses an input holding both image forms before a job’s first call, named by its place in the job', async () => {
    const server = fakeFetch([]);
    await expect(
      embedMany({
        model: model(server.fetch),
        inputs: [
          'a',
          'b',
          {
            content: [
              { type: 'image', url: 'https://example.com/a.png' },
              { type: 'image', data: PNG_BYTES, mediaType: 'image/png' },
            ],
          },
        ],
        maxInputsPerCall: 2,
      }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'inputs[2]' });
    expect(server.requests).toEqual([]);
  });
});
