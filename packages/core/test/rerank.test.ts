import { describe, expect, it } from 'vitest';
import type { TokenCounter } from '../src/engine/token-counter.js';
import {
  AuthenticationError,
  EmbedKitError,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  RetryError,
  ServerError,
} from '../src/errors.js';
import { type RerankResponse, rerank } from '../src/rerank.js';
import { rejection, ScriptedReranker, until, VirtualClock, waitForAbort } from './helpers.js';

const oneTokenPerCharacter = (exact: boolean): TokenCounter => ({
  exact,
  count: (input) => (typeof input === 'string' ? input.length : 0),
});

describe('rerank', () => {
  it('returns every document with its index, score and text, best first, ties in document order', async () => {
    const model = new ScriptedReranker();
    const documents = ['0.2 mat', '0.9 cat', '0.5 dog', '0.9 cow', '0.1 sun'];
    const result = await rerank({ model, query: 'animals', documents });
    expect(result.results).toEqual([
      { index: 1, relevanceScore: 0.9, document: '0.9 cat' },
      { index: 3, relevanceScore: 0.9, document: '0.9 cow' },
      { index: 2, relevanceScore: 0.5, document: '0.5 dog' },
      { index: 0, relevanceScore: 0.2, document: '0.2 mat' },
      { index: 4, relevanceScore: 0.1, document: '0.1 sun' },
    ]);
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]!.request.query).toBe('animals');
    expect(model.calls[0]!.request.documents).toEqual(documents);
    expect('topN' in model.calls[0]!.request).toBe(false);
    expect(result.usage).toEqual({ inputTokens: 15 });
  });

  it('breaks ties by document order whatever order the provider listed them in', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 2 }, (call) => ({
      results: call.request.documents.map((_document, index) => ({ index, relevanceScore: 0.5 })).reverse(),
      warnings: [],
      response: { status: 200, headers: {} },
    }));
    const result = await rerank({ model, query: 'q', documents: ['a', 'b', 'c', 'd', 'e'], concurrency: 1 });
    expect(result.results.map((entry) => entry.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('merges several calls into one global ranking with global indices, and keeps the best topN', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 2 });
    const documents = ['1 a', '5 b', '3 c', '9 d', '2 e', '8 f', '4 g'];
    const result = await rerank({ model, query: 'q', documents, topN: 3 });
    expect(model.callDocuments).toEqual([['1 a', '5 b'], ['3 c', '9 d'], ['2 e', '8 f'], ['4 g']]);
    // each call asks for its own best min(topN, size): enough for the overall best topN
    expect(model.calls.map((call) => call.request.topN)).toEqual([2, 2, 2, 1]);
    expect(result.results).toEqual([
      { index: 3, relevanceScore: 9, document: '9 d' },
      { index: 5, relevanceScore: 8, document: '8 f' },
      { index: 1, relevanceScore: 5, document: '5 b' },
    ]);
    expect(result.responses).toHaveLength(4);
  });

  it('splits at exactly maxDocumentsPerCall and one more; a smaller setting wins, a larger one does not', async () => {
    const exact = new ScriptedReranker({ maxDocumentsPerCall: 3 });
    await rerank({ model: exact, query: 'q', documents: ['1', '2', '3'] });
    expect(exact.calls).toHaveLength(1);
    const plusOne = new ScriptedReranker({ maxDocumentsPerCall: 3 });
    await rerank({ model: plusOne, query: 'q', documents: ['1', '2', '3', '4'] });
    expect(plusOne.callDocuments).toEqual([['1', '2', '3'], ['4']]);
    const lower = new ScriptedReranker({ maxDocumentsPerCall: 3 });
    await rerank({ model: lower, query: 'q', documents: ['1', '2', '3', '4'], maxDocumentsPerCall: 2 });
    expect(lower.callDocuments.map((call) => call.length)).toEqual([2, 2]);
    const higher = new ScriptedReranker({ maxDocumentsPerCall: 3 });
    await rerank({ model: higher, query: 'q', documents: ['1', '2', '3', '4'], maxDocumentsPerCall: 10 });
    expect(higher.callDocuments.map((call) => call.length)).toEqual([3, 1]);
  });

  it('splits by the token budget, counting the query once per document', async () => {
    const model = new ScriptedReranker({ maxTokensPerCall: 20 });
    // query 'qq' = 2 tokens; each document costs 2 + its length
    await rerank({
      model,
      query: 'qq',
      documents: ['1aaaa', '2bbbb', '3cc', '4', '5dddddddddddddddddddddd'],
      tokenCounter: oneTokenPerCharacter(false),
    });
    // 7 + 7 + 5 = 19 fits; + 3 would be 22
    expect(model.callDocuments).toEqual([['1aaaa', '2bbbb', '3cc'], ['4'], ['5dddddddddddddddddddddd']]);
  });

  it('with an exact counter, rejects an over-long query or document before any call', async () => {
    const model = new ScriptedReranker({ maxTokensPerQuery: 5, maxTokensPerDocument: 10 });
    const counter = oneTokenPerCharacter(true);
    const query = (await rejection(
      rerank({ model, query: 'much too long', documents: ['1'], tokenCounter: counter }),
    )) as InvalidArgumentError;
    expect(InvalidArgumentError.isInstance(query)).toBe(true);
    expect(query.argument).toBe('query');
    const document = (await rejection(
      rerank({ model, query: 'abc', documents: ['1', '2 too long'], tokenCounter: counter }),
    )) as InvalidArgumentError;
    expect(InvalidArgumentError.isInstance(document)).toBe(true);
    expect(document.argument).toBe('documents[1]');
    expect(model.calls).toHaveLength(0);
  });

  it('truncate: true lets an over-long document through and asks the provider to cut', async () => {
    const model = new ScriptedReranker({ maxTokensPerDocument: 10 });
    await rerank({
      model,
      query: 'abc',
      documents: ['2 too long'],
      tokenCounter: oneTokenPerCharacter(true),
      truncate: true,
    });
    expect(model.calls[0]!.request.truncate).toBe(true);
  });

  it("truncate: 'false' is refused before any call (it used to turn truncation on and skip the length check)", async () => {
    const model = new ScriptedReranker({ maxTokensPerDocument: 10 });
    const error = await rerank({
      model,
      query: 'abc',
      documents: ['2 too long'],
      tokenCounter: oneTokenPerCharacter(true),
      truncate: 'false' as unknown as boolean,
    }).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).message).toBe('truncate must be true or false, got "false".');
    expect(model.calls).toHaveLength(0);
  });

  it('the default estimate never rejects a document', async () => {
    const model = new ScriptedReranker({ maxTokensPerDocument: 2 });
    await rerank({ model, query: 'abc', documents: [`1 ${'x'.repeat(100)}`] });
    expect(model.calls).toHaveLength(1);
  });

  it.each([
    ['an empty query', { query: '' }],
    ['an empty document', { documents: ['1', ''] }],
    ['documents that are not an array', { documents: '1' as unknown as string[] }],
    ['topN 0', { topN: 0 }],
    ['concurrency 0', { concurrency: 0 }],
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['maxRetries -1', { maxRetries: -1 }],
  ])('%s is an InvalidArgumentError before any call', async (_label, override) => {
    const model = new ScriptedReranker();
    const error = await rejection(rerank({ model, query: 'q', documents: ['1'], ...override }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(model.calls).toHaveLength(0);
  });

  it('a rateLimit that is not a limiter is an InvalidArgumentError before any call, as for embedMany', async () => {
    const model = new ScriptedReranker();
    const error = await rejection(
      rerank({
        model,
        query: 'q',
        documents: ['1'],
        rateLimit: { requestsPerMinute: 1 } as never,
        clock: new VirtualClock(),
      }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(model.calls).toHaveLength(0);
  });

  it('something that is not a reranking model is an InvalidArgumentError', async () => {
    const error = await rejection(
      rerank({ model: { specificationVersion: 'v1' } as never, query: 'q', documents: ['1'] }),
    );
    expect((error as InvalidArgumentError).argument).toBe('model');
  });

  it('no documents: no call, no results, no usage', async () => {
    const model = new ScriptedReranker();
    const result = await rerank({ model, query: 'q', documents: [] });
    expect(result.results).toEqual([]);
    expect(model.calls).toHaveLength(0);
    expect('usage' in result).toBe(false);
  });

  it('passes headers and providerOptions', async () => {
    const model = new ScriptedReranker();
    await rerank({
      model,
      query: 'q',
      documents: ['1'],
      headers: { 'x-a': '1' },
      providerOptions: { 'rerank-co': { x: 1 } },
    });
    expect(model.calls[0]!.request.headers).toEqual({ 'x-a': '1' });
    expect(model.calls[0]!.request.providerOptions).toEqual({ 'rerank-co': { x: 1 } });
    expect(model.calls[0]!.request.signal).toBeInstanceOf(AbortSignal);
  });

  it('usage is absent when any call reported none', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 1 }, (call) =>
      call.number === 2
        ? { results: [{ index: 0, relevanceScore: 1 }], warnings: [], response: { status: 200, headers: {} } }
        : undefined,
    );
    const result = await rerank({ model, query: 'q', documents: ['1', '2', '3'], concurrency: 1 });
    expect(model.calls).toHaveLength(3);
    expect('usage' in result).toBe(false);
  });

  it('runs one call at a time when the model does not support parallel calls', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 1, supportsParallelCalls: false }, async () => {
      await Promise.resolve();
      return undefined;
    });
    await rerank({ model, query: 'q', documents: ['1', '2', '3', '4'], concurrency: 4 });
    expect(model.maxInFlight).toBe(1);
  });
});

describe('rerank response checks', () => {
  function answering(results: unknown, usage?: unknown) {
    return new ScriptedReranker({}, () => ({
      results: results as RerankResponse['results'],
      warnings: [],
      response: { status: 200, headers: {} },
      ...(usage === undefined ? {} : { usage: usage as RerankResponse['usage'] }),
    }));
  }

  it.each([
    ['too few scores', [{ index: 0, relevanceScore: 1 }]],
    [
      'an index twice',
      [
        { index: 0, relevanceScore: 1 },
        { index: 0, relevanceScore: 0.5 },
      ],
    ],
    [
      'an index out of range',
      [
        { index: 0, relevanceScore: 1 },
        { index: 2, relevanceScore: 0.5 },
      ],
    ],
    [
      'a fractional index',
      [
        { index: 0, relevanceScore: 1 },
        { index: 0.5, relevanceScore: 0.5 },
      ],
    ],
    [
      'a NaN score',
      [
        { index: 0, relevanceScore: 1 },
        { index: 1, relevanceScore: Number.NaN },
      ],
    ],
    [
      'a string score',
      [
        { index: 0, relevanceScore: 1 },
        { index: 1, relevanceScore: '0.5' },
      ],
    ],
    ['no results at all', undefined],
  ])('%s -> InvalidResponseError, not retried', async (_label, results) => {
    const model = answering(results);
    const error = await rejection(rerank({ model, query: 'q', documents: ['1', '2'] }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect(model.calls).toHaveLength(1);
  });

  it('names a bad score by its kind, never its content (a string echoing a header was quoted whole)', async () => {
    const model = answering([
      { index: 0, relevanceScore: 1 },
      { index: 1, relevanceScore: 'x-api-key: FAKE-KEY-not-a-real-key-0000' },
    ]);
    const error = (await rejection(rerank({ model, query: 'q', documents: ['1', '2'] }))) as Error;
    expect(error.message).toBe(
      'rerank-co returned the score a string of 39 characters for document 1, not a finite number.',
    );
  });

  it('an API error naming a document of a later call says its place in the whole job, as a document', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 2 }, (call) => {
      if (call.number === 2) throw new InvalidRequestError('document 1 is too long', { inputIndex: 1 });
      return undefined;
    });
    const error = await rejection(
      rerank({ model, query: 'q', documents: ['1', '2', '3', '4'], concurrency: 1 }),
    );
    if (!InvalidRequestError.isInstance(error)) throw error;
    expect(error.inputIndex).toBe(3);
    expect(error.message).toBe('document 1 is too long (document 3 of the whole job)');
  });

  it('names a document of a later call by its place in the whole job too', async () => {
    const model = new ScriptedReranker({ maxDocumentsPerCall: 2 }, (call) =>
      call.number === 2
        ? {
            results: [
              { index: 1, relevanceScore: 1 },
              { index: 1, relevanceScore: 0.5 },
            ],
            warnings: [],
            response: { status: 200, headers: {} },
          }
        : undefined,
    );
    const error = (await rejection(
      rerank({ model, query: 'q', documents: ['1', '2', '3', '4'], concurrency: 1 }),
    )) as Error;
    expect(error.message).toBe(
      'rerank-co returned a score for document index 1 (document 3 of the whole job), twice for 2 documents.',
    );
  });

  it('a usage that is not a count -> InvalidResponseError', async () => {
    const model = answering(
      [
        { index: 0, relevanceScore: 1 },
        { index: 1, relevanceScore: 0 },
      ],
      { inputTokens: -3 },
    );
    expect(
      InvalidResponseError.isInstance(await rejection(rerank({ model, query: 'q', documents: ['1', '2'] }))),
    ).toBe(true);
  });

  it('with topN, exactly min(topN, documents) scores are expected from each call', async () => {
    const model = answering([
      { index: 0, relevanceScore: 1 },
      { index: 1, relevanceScore: 0 },
    ]);
    const error = await rejection(rerank({ model, query: 'q', documents: ['1', '2', '3'], topN: 1 }));
    expect(InvalidResponseError.isInstance(error)).toBe(true);
  });
});

describe('rerank retries, bisection and abort', () => {
  it('retries a 5xx with the engine’s backoff, then gives a RetryError', async () => {
    const clock = new VirtualClock({ random: [0.5] });
    const model = new ScriptedReranker({}, () => {
      throw new ServerError('busy', { statusCode: 503 });
    });
    const error = await rejection(rerank({ model, query: 'q', documents: ['1'], clock, maxRetries: 2 }));
    expect(RetryError.isInstance(error)).toBe(true);
    expect((error as RetryError).attempts).toBe(3);
    expect(clock.sleepDurations).toEqual([250, 500]);
  });

  it('a 401 is thrown as itself after one call', async () => {
    const failure = new AuthenticationError('bad key');
    const model = new ScriptedReranker({}, () => {
      throw failure;
    });
    await expect(rerank({ model, query: 'q', documents: ['1'] })).rejects.toBe(failure);
    expect(model.calls).toHaveLength(1);
  });

  it('bisects a call the API says is too large, keeping global indices', async () => {
    const model = new ScriptedReranker({}, (call) => {
      if (call.request.documents.length > 2)
        throw new InvalidRequestError('too many tokens', { batchTooLarge: true });
      return undefined;
    });
    const result = await rerank({ model, query: 'q', documents: ['1', '5', '3', '4', '2'] });
    expect(model.callDocuments).toEqual([
      ['1', '5', '3', '4', '2'],
      ['1', '5', '3'],
      ['1', '5'],
      ['3'],
      ['4', '2'],
    ]);
    expect(result.results.map((entry) => entry.index)).toEqual([1, 3, 2, 4, 0]);
    expect(result.usage).toEqual({ inputTokens: 15 });
  });

  it('an abort during a call re-throws the native AbortError', async () => {
    const model = new ScriptedReranker({}, (call) => waitForAbort(call.request.signal));
    const controller = new AbortController();
    const pending = rejection(rerank({ model, query: 'q', documents: ['1'], signal: controller.signal }));
    await until(() => model.calls.length === 1, 'the call');
    controller.abort();
    const error = await pending;
    expect((error as Error).name).toBe('AbortError');
    expect(EmbedKitError.isInstance(error)).toBe(false);
  });
});
