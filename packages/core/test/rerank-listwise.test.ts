/**
 * A listwise reranker (jina-reranker-v3) scores the documents of one call against each other: its scores
 * do not compare across calls, so a job split into calls and merged by score would be silently out of
 * order. `rerank` refuses such a split, and bisection of a call the API finds too large, unless the
 * caller passes `mergeScoresAcrossCalls: true`.
 */
import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/engine/limiter.js';
import { InvalidRequestError } from '../src/errors.js';
import { rerank } from '../src/rerank.js';
import { exactCharacters, invalidArgumentOf, rejectionOf, ScriptedReranker } from './helpers.js';

const listwise = (capabilities: { maxDocumentsPerCall?: number; maxTokensPerCall?: number } = {}) =>
  new ScriptedReranker({ maxDocumentsPerCall: 2, ...capabilities, scoresCompareAcrossCalls: false });

const advice =
  'Rerank fewer documents (e.g. fewer first-stage candidates), or pass mergeScoresAcrossCalls: true to split them and merge by score anyway.';

describe('rerank with a listwise model (scoresCompareAcrossCalls: false)', () => {
  it('refuses a job over the model’s document limit before any call, naming model, count and limit', async () => {
    const model = listwise();
    const error = await invalidArgumentOf(
      rerank({ model, query: 'q', documents: ['1', '5', '3', '4', '2'] }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('documents');
    expect(error.message).toBe(
      `rerank-co model rr-1 is listwise: its scores rank the documents of one call against each other and do not compare across calls, so merging calls by score would give a wrong order. The 5 documents need 3 calls: the model takes at most 2 documents per call. ${advice}`,
    );
    expect(model.calls).toHaveLength(0);
  });

  it('names maxDocumentsPerCall when the setting, not the model, splits the job', async () => {
    const model = listwise({ maxDocumentsPerCall: 100 });
    const error = await invalidArgumentOf(
      rerank({ model, query: 'q', documents: ['1', '2', '3'], maxDocumentsPerCall: 2 }),
    );
    expect(error.message).toContain(
      'The 3 documents need 2 calls: maxDocumentsPerCall asks for at most 2 documents per call.',
    );
    expect(model.calls).toHaveLength(0);
  });

  it('names the token budget when the documents fit the count but not one call’s tokens', async () => {
    const model = listwise({ maxDocumentsPerCall: 100, maxTokensPerCall: 10 });
    const error = await invalidArgumentOf(
      rerank({ model, query: 'q', documents: ['1aaa', '2bbb', '3ccc'], tokenCounter: exactCharacters }),
    );
    // The query counts once per document: 5 + 5 fits 10, a third document does not.
    expect(error.message).toContain(
      'The 3 documents need 2 calls: together with the query they exceed the 10 tokens one call takes.',
    );
    expect(model.calls).toHaveLength(0);
  });

  it('names the rate limit when its tokens a minute, not the model, cap one call', async () => {
    const model = listwise({ maxDocumentsPerCall: 100, maxTokensPerCall: 1000 });
    const error = await invalidArgumentOf(
      rerank({
        model,
        query: 'q',
        documents: ['1aaa', '2bbb', '3ccc'],
        tokenCounter: exactCharacters,
        rateLimit: createRateLimiter({ tokensPerMinute: 10 }),
      }),
    );
    // Kills the mutant that calls a minute's budget of the user's limiter the tokens "one call takes".
    expect(error.message).toContain(
      'The 3 documents need 2 calls: together with the query they exceed the rate limit’s 10 tokens a minute, which no call may exceed.',
    );
    expect(model.calls).toHaveLength(0);
  });

  it('sends a job that fits one call as before', async () => {
    const model = listwise();
    const result = await rerank({ model, query: 'q', documents: ['1', '5'] });
    expect(model.callDocuments).toEqual([['1', '5']]);
    expect(result.results.map((entry) => entry.index)).toEqual([1, 0]);
  });

  it('mergeScoresAcrossCalls: true splits the job and merges by score', async () => {
    const model = listwise();
    const result = await rerank({
      model,
      query: 'q',
      documents: ['1', '5', '3', '4', '2'],
      mergeScoresAcrossCalls: true,
      topN: 2,
    });
    expect(model.callDocuments).toEqual([['1', '5'], ['3', '4'], ['2']]);
    expect(result.results).toEqual([
      { index: 1, relevanceScore: 5, document: '5' },
      { index: 3, relevanceScore: 4, document: '4' },
    ]);
  });

  it('does not bisect a call the API says is too large: the API’s error is thrown after one call', async () => {
    const tooLarge = new InvalidRequestError('too many tokens', { batchTooLarge: true });
    const model = new ScriptedReranker({ maxDocumentsPerCall: 100, scoresCompareAcrossCalls: false }, () => {
      throw tooLarge;
    });
    const error = await rejectionOf(
      InvalidRequestError,
      rerank({ model, query: 'q', documents: ['1', '5', '3', '4'] }),
    );
    // The API's error, saying why the engine did not split the call as it does for a pointwise model.
    expect(error.code).toBe('invalid_request');
    expect(error.batchTooLarge).toBe(true);
    expect(error.cause).toBe(tooLarge);
    expect(error.message).toBe(
      `too many tokens The 4 documents were not split into smaller calls: rerank-co model rr-1 is listwise, and its scores do not compare across calls. ${advice}`,
    );
    expect(model.calls).toHaveLength(1);
  });

  it('leaves the API’s error as it is when a single document is too large (no split could help)', async () => {
    const tooLarge = new InvalidRequestError('too many tokens', { batchTooLarge: true });
    const model = new ScriptedReranker({ maxDocumentsPerCall: 100, scoresCompareAcrossCalls: false }, () => {
      throw tooLarge;
    });
    const error = await rejectionOf(InvalidRequestError, rerank({ model, query: 'q', documents: ['1'] }));
    expect(error).toBe(tooLarge);
    expect(model.calls).toHaveLength(1);
  });

  it('with mergeScoresAcrossCalls: true, bisects a call the API says is too large', async () => {
    const model = new ScriptedReranker(
      { maxDocumentsPerCall: 100, scoresCompareAcrossCalls: false },
      (call) => {
        if (call.request.documents.length > 2)
          throw new InvalidRequestError('too many', { batchTooLarge: true });
        return undefined;
      },
    );
    const result = await rerank({
      model,
      query: 'q',
      documents: ['1', '5', '3', '4'],
      mergeScoresAcrossCalls: true,
      concurrency: 1,
    });
    expect(model.callDocuments).toEqual([
      ['1', '5', '3', '4'],
      ['1', '5'],
      ['3', '4'],
    ]);
    expect(result.results.map((entry) => entry.index)).toEqual([1, 3, 2, 0]);
  });

  it('refuses a mergeScoresAcrossCalls that is not a boolean before any call', async () => {
    const model = listwise();
    const error = await invalidArgumentOf(
      rerank({
        model,
        query: 'q',
        documents: ['1', '5', '3'],
        mergeScoresAcrossCalls: 'true' as unknown as boolean,
      }),
    );
    expect(error.message).toBe('mergeScoresAcrossCalls must be true or false, got "true".');
    expect(model.calls).toHaveLength(0);
  });
});

describe('rerank with a pointwise model', () => {
  for (const scoresCompareAcrossCalls of [undefined, true]) {
    it(`splits and merges by score without any opt-in (scoresCompareAcrossCalls: ${scoresCompareAcrossCalls})`, async () => {
      const model = new ScriptedReranker(
        scoresCompareAcrossCalls === undefined
          ? { maxDocumentsPerCall: 2 }
          : { maxDocumentsPerCall: 2, scoresCompareAcrossCalls },
      );
      const result = await rerank({ model, query: 'q', documents: ['1', '5', '3', '4', '2'], topN: 2 });
      expect(model.callDocuments).toEqual([['1', '5'], ['3', '4'], ['2']]);
      expect(result.results.map((entry) => entry.index)).toEqual([1, 3]);
    });
  }

  it('still bisects a call the API says is too large', async () => {
    const model = new ScriptedReranker({}, (call) => {
      if (call.request.documents.length > 2)
        throw new InvalidRequestError('too many', { batchTooLarge: true });
      return undefined;
    });
    await rerank({ model, query: 'q', documents: ['1', '5', '3', '4'], concurrency: 1 });
    expect(model.callDocuments).toEqual([
      ['1', '5', '3', '4'],
      ['1', '5'],
      ['3', '4'],
    ]);
  });
});
