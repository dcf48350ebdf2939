import { type ContextualizedEmbeddingModel, embedContextualized, embedMany } from '@embedkit/core';
import { float32ToBase64 } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { createVoyage, VOYAGE_CONTEXTUALIZED_LIMITS } from '../src/index.js';
import { fakeFetch, TEST_KEY } from './helpers.js';

const vector = (first: number) => float32ToBase64([first, first / 2, -first, 0.25]);

/** A `/contextualizedembeddings` body: `chunks[d]` vectors for document d, listed in `order`. */
function contextBody(chunks: string[][], order: number[], texts?: string[][]) {
  return {
    object: 'list',
    data: order.map((index) => ({
      object: 'list',
      index,
      // Chunks listed last-first: the provider must place them by index.
      data: chunks[index]!.map((embedding, chunk) => ({
        object: 'embedding',
        index: chunk,
        embedding,
        ...(texts === undefined ? {} : { text: texts[index]![chunk] }),
      })).reverse(),
    })),
    model: 'voyage-context-3',
    usage: { total_tokens: 42 },
  };
}

const model = (fetch: ReturnType<typeof fakeFetch>['fetch']) =>
  createVoyage({ apiKey: TEST_KEY, fetch }).contextualizedEmbedding('voyage-context-3');

describe('voyage-context-3', () => {
  it('declares the documented limits: 1,000 documents, 16,000 chunks, 32,000 tokens per call', () => {
    expect(model(fakeFetch([]).fetch).contextualizedCapabilities).toEqual({
      maxDocumentsPerCall: 1000,
      maxChunksPerCall: 16_000,
      maxTokensPerCall: 32_000,
      maxTokensPerDocument: 32_000,
    });
    expect(VOYAGE_CONTEXTUALIZED_LIMITS.maxChunksPerCall).toBe(16_000);
  });

  it('sends documents as lists of chunks and returns chunk vectors per document, in order', async () => {
    const server = fakeFetch([{ body: contextBody([[vector(1), vector(2)], [vector(3)]], [1, 0]) }]);
    // Called directly: the engine would reject these 4-value vectors for dimensions 512.
    const result = await model(server.fetch).doEmbedContextualized({
      documents: [['Chapter one opens.', 'It ends.'], ['A short note.']],
      inputType: 'document',
      dimensions: 512,
    });
    expect(server.requests[0]!.url).toBe('https://api.voyageai.com/v1/contextualizedembeddings');
    expect(server.requests[0]!.body).toEqual({
      inputs: [['Chapter one opens.', 'It ends.'], ['A short note.']],
      model: 'voyage-context-3',
      input_type: 'document',
      output_dimension: 512,
      encoding_format: 'base64',
    });
    expect(result.embeddings.map((document) => document.map((chunk) => Array.from(chunk)))).toEqual([
      [
        [1, 0.5, -1, 0.25],
        [2, 1, -2, 0.25],
      ],
      [[3, 1.5, -3, 0.25]],
    ]);
    expect(result.usage).toEqual({ inputTokens: 42 });
  });

  it('decodes int8 chunk vectors per output_dtype', async () => {
    const server = fakeFetch([{ body: contextBody([['DPlkgA==']], [0]) }]);
    const response = await model(server.fetch).doEmbedContextualized({
      documents: [['x']],
      outputType: 'int8',
    });
    expect((server.requests[0]!.body as { output_dtype: string }).output_dtype).toBe('int8');
    expect(response.embeddings[0]![0]).toBeInstanceOf(Int8Array);
    expect(Array.from(response.embeddings[0]![0]!)).toEqual([12, -7, 100, -128]);
  });

  it('as an EmbeddingModel, sends each input as a document of one chunk', async () => {
    const full = float32ToBase64(new Float32Array(1024).fill(0.5));
    const server = fakeFetch([{ body: contextBody([[full], [full]], [0, 1]) }]);
    const result = await embedMany({
      model: model(server.fetch),
      inputs: ['query one', 'query two'],
      inputType: 'query',
    });
    expect(server.requests[0]!.body).toEqual({
      inputs: [['query one'], ['query two']],
      model: 'voyage-context-3',
      input_type: 'query',
      encoding_format: 'base64',
    });
    expect(result.embeddings.map((item) => item.length)).toEqual([1024, 1024]);
  });

  it('auto-chunking sends whole documents flat and returns the chunk texts', async () => {
    const server = fakeFetch([
      {
        body: contextBody(
          [[vector(1), vector(2)], [vector(3)]],
          [0, 1],
          [['Part A.', 'Part B.'], ['Part C.']],
        ),
      },
    ]);
    const result = await embedContextualized({
      model: model(server.fetch),
      documents: [['Part A. Part B.'], ['Part C.']],
      inputType: 'document',
      providerOptions: { voyage: { autoChunking: true, chunkSize: 256, chunkOverlap: 32 } },
      dimensions: 256,
    }).catch((error: unknown) => error);
    // The fake vectors have 4 values, not 256: the engine's length check must catch it.
    expect(result).toMatchObject({ name: 'InvalidResponseError' });
    expect(server.requests[0]!.body).toEqual({
      inputs: ['Part A. Part B.', 'Part C.'],
      model: 'voyage-context-3',
      input_type: 'document',
      output_dimension: 256,
      enable_auto_chunking: true,
      chunk_size: 256,
      chunk_overlap: 32,
      encoding_format: 'base64',
    });
    const again = fakeFetch([
      {
        body: contextBody(
          [[vector(1), vector(2)], [vector(3)]],
          [0, 1],
          [['Part A.', 'Part B.'], ['Part C.']],
        ),
      },
    ]);
    const response = await model(again.fetch).doEmbedContextualized({
      documents: [['Part A. Part B.'], ['Part C.']],
      inputType: 'document',
      providerOptions: { voyage: { autoChunking: true } },
    });
    expect(response.chunks).toEqual([['Part A.', 'Part B.'], ['Part C.']]);
    expect(response.embeddings.map((document) => document.map((chunk) => chunk[0]))).toEqual([[1, 2], [3]]);
  });

  it.each([
    [
      'autoChunking without inputType document',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: true } } },
      'inputType',
    ],
    [
      'autoChunking with a pre-chunked document',
      {
        documents: [['a', 'b']],
        inputType: 'document' as const,
        providerOptions: { voyage: { autoChunking: true } },
      },
      'documents[0]',
    ],
    [
      'chunkSize without autoChunking',
      { documents: [['a']], providerOptions: { voyage: { chunkSize: 100 } } },
      'providerOptions.voyage',
    ],
    [
      'an overlap not smaller than the chunk size',
      {
        documents: [['a']],
        inputType: 'document' as const,
        providerOptions: { voyage: { autoChunking: true, chunkSize: 64, chunkOverlap: 64 } },
      },
      'providerOptions.voyage.chunkOverlap',
    ],
    [
      'a chunk size over 32,000',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: true, chunkSize: 32_001 } } },
      'providerOptions.voyage',
    ],
    [
      'a chunk size of 0',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: true, chunkSize: 0 } } },
      'providerOptions.voyage',
    ],
    [
      'a chunk size that is not a whole number',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: true, chunkSize: 100.5 } } },
      'providerOptions.voyage',
    ],
    [
      'a negative overlap',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: true, chunkOverlap: -1 } } },
      'providerOptions.voyage',
    ],
    [
      'autoChunking that is not true or false',
      { documents: [['a']], providerOptions: { voyage: { autoChunking: 'true' } } },
      'providerOptions.voyage',
    ],
    [
      'an option Voyage has no field for',
      { documents: [['a']], providerOptions: { voyage: { chunk_size: 100 } } },
      'providerOptions.voyage',
    ],
  ])('rejects %s before any request', async (_label, request, argument) => {
    const server = fakeFetch([]);
    // Typed as the bare contract: the compiler refuses some of these options, and this is the check a
    // caller without types meets.
    const loose: ContextualizedEmbeddingModel = model(server.fetch);
    await expect(loose.doEmbedContextualized(request)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument,
    });
    expect(server.requests).toEqual([]);
  });

  it.each([
    [1, 0],
    [32_000, 31_999],
  ])(
    'sends a chunk size of %i with an overlap of %i, the edges Voyage takes',
    async (chunkSize, chunkOverlap) => {
      const server = fakeFetch([{ body: contextBody([[vector(1)]], [0], [['a']]) }]);
      await model(server.fetch).doEmbedContextualized({
        documents: [['a']],
        inputType: 'document',
        providerOptions: { voyage: { autoChunking: true, chunkSize, chunkOverlap } },
      });
      expect(server.requests[0]!.body).toMatchObject({ chunk_size: chunkSize, chunk_overlap: chunkOverlap });
    },
  );

  it('hands a document with a wrong number of chunk vectors on for the engine to refuse', async () => {
    // Called directly, the answer is returned as it is (the engine checks counts and names the document
    // by its place in the job; see "errors about an answer" below).
    const server = fakeFetch([{ body: contextBody([[vector(1)]], [0]) }]);
    const response = await model(server.fetch).doEmbedContextualized({ documents: [['a', 'b']] });
    expect(response.embeddings.map((document) => document.length)).toEqual([1]);
  });
});

describe('tokens per call', () => {
  /** Exact counts of one token per character, so that the packing is known. */
  const tokenCounter = {
    exact: true,
    count: (input: unknown) => (typeof input === 'string' ? input.length : 0),
  };
  const full = float32ToBase64(new Float32Array(1024).fill(0.5));

  it('packs at most 32,000 tokens into a call without auto-chunking (the limit the API states for it)', async () => {
    const documents = [['a'.repeat(20_000)], ['b'.repeat(20_000)], ['c'.repeat(12_000)]];
    const server = fakeFetch([
      { body: contextBody([[full]], [0]) },
      { body: contextBody([[full], [full]], [0, 1]) },
    ]);
    const result = await embedContextualized({ model: model(server.fetch), documents, tokenCounter });
    // 40,000 tokens in one call is over the API's limit: the first document goes alone, the other two fit.
    expect(server.requests.map((request) => (request.body as { inputs: string[][] }).inputs)).toEqual([
      [documents[0]],
      [documents[1], documents[2]],
    ]);
    expect(result.embeddings.map((document) => document.length)).toEqual([1, 1, 1]);
  });

  it('as an EmbeddingModel too: inputs of 20,000 tokens each go in separate calls', async () => {
    const server = fakeFetch([{ body: contextBody([[full]], [0]) }, { body: contextBody([[full]], [0]) }]);
    await embedMany({
      model: model(server.fetch),
      inputs: ['a'.repeat(20_000), 'b'.repeat(20_000)],
      tokenCounter,
    });
    expect(server.requests.map((request) => (request.body as { inputs: string[][] }).inputs.length)).toEqual([
      1, 1,
    ]);
  });
});

describe('errors about an answer', () => {
  // Reported by an outside review: with two documents per call, a chunk vector missing from document 2 of
  // the job was "voyage returned 2 chunk vectors of document 0 for 3 inputs." with neither the status nor
  // the request id, and a NaN in chunk 1 of document 3 was named "vector 4" (its place in a flat list).
  const D = 256;
  /** Chunk `chunk` of job document `document`: its first value says where it belongs. */
  const chunkVector = (document: number, chunk: number, values: number[] = []) =>
    float32ToBase64(
      Array.from(
        { length: D },
        (_, position) => values[position] ?? (position === 0 ? document * 10 + chunk : 0.5),
      ),
    );
  const job = [['d0c0'], ['d1c0', 'd1c1'], ['d2c0', 'd2c1', 'd2c2'], ['d3c0', 'd3c1']];
  type Answer = ReturnType<typeof contextBody>;
  /** The answers to the job's two calls (documents 0-1, then 2-3), each changed by `tamper(answer, call)`. */
  const replies = (tamper: (answer: Answer, call: number) => void, extra: Record<string, unknown> = {}) =>
    [0, 1].map((call) => {
      const documents = job.slice(call * 2, call * 2 + 2);
      const answer = contextBody(
        documents.map((chunks, index) => chunks.map((_, chunk) => chunkVector(call * 2 + index, chunk))),
        [1, 0],
        ...(extra.texts === undefined ? [] : [documents]),
      );
      tamper(answer, call);
      return { body: answer, headers: { 'x-request-id': `req-${call}` } };
    });
  /** The chunk whose answer index is `index` in the answer's document whose index is `document`. */
  const chunkOf = (answer: Answer, document: number, index: number) =>
    answer.data.find((item) => item.index === document)!.data.find((item) => item.index === index)!;
  const run = (server: ReturnType<typeof fakeFetch>, extra: Record<string, unknown> = {}) =>
    embedContextualized({
      model: model(server.fetch),
      documents: job,
      dimensions: D,
      maxDocumentsPerCall: 2,
      concurrency: 1,
      maxRetries: 0,
      ...extra,
    }).catch((error: unknown) => error);
  const fromSecondCall = { name: 'InvalidResponseError', statusCode: 200, requestId: 'req-1' };

  it('places out-of-order documents and chunks by their indices over a job of two calls', async () => {
    const result = await run(fakeFetch(replies(() => {})));
    expect(
      (result as { embeddings: Float32Array[][] }).embeddings.map((document) =>
        document.map((chunk) => chunk[0]),
      ),
    ).toEqual([[0], [10, 11], [20, 21, 22], [30, 31]]);
  });

  it.each([
    [
      'a chunk vector missing from document 2',
      (answer: Answer) => {
        const document = answer.data.find((item) => item.index === 0)!;
        document.data = document.data.filter((item) => item.index !== 1);
      },
      'voyage returned 2 vectors for the 3 chunks of document 2.',
    ],
    [
      'no chunk vectors for document 3',
      (answer: Answer) => {
        answer.data.find((item) => item.index === 1)!.data = [];
      },
      'voyage returned 0 vectors for the 2 chunks of document 3.',
    ],
    [
      'a chunk vector of the wrong length in document 3',
      (answer: Answer) => {
        chunkOf(answer, 1, 1).embedding = float32ToBase64([1, 2]);
      },
      'voyage returned chunk 1 of document 3 with 2 values; expected 256 for dimensions 256.',
    ],
    [
      'a NaN in chunk 1 of document 3',
      (answer: Answer) => {
        chunkOf(answer, 1, 1).embedding = chunkVector(3, 1, [31, Number.NaN]);
      },
      // The decode hands values on; the engine's one check of every float names the chunk in the job.
      'voyage returned chunk 1 of document 3 holding NaN at position 1, not a finite number.',
    ],
  ])(
    'the engine names %s by its place in the job, with the status and request id',
    async (_label, tamper, message) => {
      const server = fakeFetch(replies((answer, call) => call === 1 && tamper(answer)));
      expect(await run(server)).toMatchObject({ ...fromSecondCall, message });
    },
  );

  it.each([
    [
      'a chunk index twice',
      (answer: Answer) => {
        chunkOf(answer, 1, 1).index = 0;
      },
      'voyage returned chunk index 0 twice for the 2 chunks of document 1 of this call (documents 2 to 3 of the whole job).',
    ],
    [
      'a chunk index out of range',
      (answer: Answer) => {
        chunkOf(answer, 1, 1).index = 5;
      },
      'voyage returned chunk index 5, out of range for the 2 chunks of document 1 of this call (documents 2 to 3 of the whole job).',
    ],
    [
      'a document index out of range',
      (answer: Answer) => {
        answer.data.find((item) => item.index === 1)!.index = 9;
      },
      'voyage returned document index 9, out of range for the 2 documents of this call (documents 2 to 3 of the whole job).',
    ],
    [
      'a document index twice',
      (answer: Answer) => {
        answer.data.find((item) => item.index === 1)!.index = 0;
      },
      'voyage returned document index 0 twice for the 2 documents of this call (documents 2 to 3 of the whole job).',
    ],
    [
      'a document missing',
      (answer: Answer) => {
        answer.data.pop();
      },
      'voyage returned 1 document for the 2 documents of this call (documents 2 to 3 of the whole job).',
    ],
    [
      'a chunk vector that is not base64',
      (answer: Answer) => {
        chunkOf(answer, 1, 1).embedding = 'AAA';
      },
      'voyage returned chunk 1 of document 1 of this call, which is not valid base64 of float values (3 characters decode to 2 bytes) (documents 2 to 3 of the whole job).',
    ],
  ])(
    'what must be read to place the vectors, %s, is named in the call and the call in the job, with the status and request id',
    async (_label, tamper, message) => {
      const server = fakeFetch(replies((answer, call) => call === 1 && tamper(answer)));
      expect(await run(server)).toMatchObject({ ...fromSecondCall, message });
    },
  );

  it('an auto-chunked document without chunk texts is named in the call and the call in the job, with the status and request id', async () => {
    const single = job.map((document) => [document.join(' ')]);
    const server = fakeFetch(
      replies(
        (answer, call) => {
          if (call === 1) delete (chunkOf(answer, 1, 0) as { text?: string }).text;
        },
        { texts: true },
      ),
    );
    const error = await embedContextualized({
      model: model(server.fetch),
      documents: single,
      dimensions: D,
      inputType: 'document',
      providerOptions: { voyage: { autoChunking: true } },
      maxDocumentsPerCall: 2,
      concurrency: 1,
      maxRetries: 0,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      ...fromSecondCall,
      message:
        'voyage chunked document 1 of this call but returned no text for its chunk 0 (documents 2 to 3 of the whole job).',
    });
  });

  it('an auto-chunked document answered with no chunks is refused by the engine, naming it in the job', async () => {
    const server = fakeFetch(
      replies(
        (answer, call) => {
          if (call === 1) answer.data.find((item) => item.index === 1)!.data = [];
        },
        { texts: true },
      ),
    );
    const error = await embedContextualized({
      model: model(server.fetch),
      documents: job.map((document) => [document.join(' ')]),
      dimensions: D,
      inputType: 'document',
      providerOptions: { voyage: { autoChunking: true } },
      maxDocumentsPerCall: 2,
      concurrency: 1,
      maxRetries: 0,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ ...fromSecondCall, message: expect.stringContaining('document 3.') });
  });

  /** What `embedMany` of the inputs "one" and "two", with no retry, rejects with. */
  function twoInputsFailing(fetch: Parameters<typeof model>[0]): Promise<unknown> {
    return embedMany({ model: model(fetch), inputs: ['one', 'two'], dimensions: D, maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    );
  }

  it('as an EmbeddingModel, a vector holding Infinity is named by its input in the call', async () => {
    const server = fakeFetch([
      {
        body: contextBody([[chunkVector(0, 0)], [chunkVector(1, 0, [10, Number.POSITIVE_INFINITY])]], [1, 0]),
        headers: { 'x-request-id': 'req-1' },
      },
    ]);
    const error = await twoInputsFailing(server.fetch);
    expect(error).toMatchObject({
      ...fromSecondCall,
      message: 'voyage returned vector 1 holding Infinity at position 1, not a finite number.',
    });
  });

  it.each([
    [[[chunkVector(0, 0), chunkVector(0, 1)], [chunkVector(1, 0)]], 'voyage returned 2 vectors for input 0'],
    [[[], [chunkVector(1, 0)]], 'voyage returned 0 vectors for input 0'],
  ])(
    'as an EmbeddingModel, an input answered with other than one vector is refused with the status and request id',
    async (chunks, start) => {
      const server = fakeFetch([{ body: contextBody(chunks, [0, 1]), headers: { 'x-request-id': 'req-1' } }]);
      const error = await twoInputsFailing(server.fetch);
      expect(error).toMatchObject({
        ...fromSecondCall,
        message: `${start} of this call; each input is sent as a document of one chunk.`,
      });
    },
  );
});

describe('checks that live in the engine', () => {
  it('dimensions Voyage lacks are refused by embedContextualized before any request', async () => {
    const server = fakeFetch([]);
    await expect(
      embedContextualized({ model: model(server.fetch), documents: [['a']], dimensions: 768 }),
    ).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'dimensions' });
    expect(server.requests).toEqual([]);
  });

  // Defect 6 of issue 10: through embedMany, auto-chunking kept the first chunk's vector of each input and
  // dropped the rest without a word.
  it('autoChunking through embedMany is refused before any request: it answers several vectors per input', async () => {
    const server = fakeFetch([]);
    await expect(
      embedMany({
        model: model(server.fetch),
        inputs: ['a long document'],
        inputType: 'document',
        providerOptions: { voyage: { autoChunking: true } },
      }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'providerOptions.voyage.autoChunking',
    });
    expect(server.requests).toEqual([]);
  });
});

describe('autoChunking checks over a whole job', () => {
  const autoChunked = {
    inputType: 'document' as const,
    providerOptions: { voyage: { autoChunking: true } },
  };
  const job = [['doc a'], ['doc b'], ['doc c'], ['doc d part 1', 'doc d part 2']];

  it('checkContextualizedRequest refuses a job whose fourth document is pre-chunked, naming documents[3], and sends nothing', () => {
    const server = fakeFetch([]);
    let error: unknown;
    try {
      model(server.fetch).checkContextualizedRequest({ documents: job, ...autoChunked });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'documents[3]',
      message: 'With autoChunking each document is one string for Voyage to chunk; document 3 has 2 chunks.',
    });
    expect(server.requests).toEqual([]);
  });

  it('checkContextualizedRequest makes the same checks doEmbedContextualized makes on a call', () => {
    const check = model(fakeFetch([]).fetch);
    expect(() => check.checkContextualizedRequest({ documents: [['a']], ...autoChunked })).not.toThrow();
    expect(() =>
      check.checkContextualizedRequest({
        documents: [['a']],
        providerOptions: { voyage: { autoChunking: true } },
      }),
    ).toThrow('autoChunking needs inputType "document".');
    expect(() =>
      check.checkContextualizedRequest({
        documents: [['a']],
        providerOptions: { voyage: { chunkSize: 100 } },
      }),
    ).toThrow('chunkSize and chunkOverlap apply only with autoChunking: true.');
    expect(() => check.checkContextualizedRequest({ documents: job })).not.toThrow();
  });

  // core's embedContextualized calls checkContextualizedRequest with every document before the first call.
  // Before, the first three documents were sent (and billed) before the fourth was refused as documents[0]
  // of its call.
  it('embedContextualized refuses the job before any request, naming documents[3]', async () => {
    // One chunk of 1,024 values per call, as voyage-context-3 answers.
    const full = float32ToBase64(new Array<number>(1024).fill(1 / 32));
    const answer = (text: string) => ({ body: contextBody([[full]], [0], [[text]]) });
    const server = fakeFetch([answer('doc a'), answer('doc b'), answer('doc c')]);
    const error = await embedContextualized({
      model: model(server.fetch),
      documents: job,
      maxDocumentsPerCall: 1,
      concurrency: 1,
      ...autoChunked,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'InvalidArgumentError', argument: 'documents[3]' });
    expect(server.requests).toEqual([]);
  });
});
