/**
 * What EmbedkitEmbeddings decides before the engine sees a call: the parameters object it takes and the
 * engine settings it refuses by name (each call's own inputType, outputType and signal), the largest
 * maxConcurrency and a concurrency given alone, the input type each side gets from a model that has only
 * one of `document` and `query` (or no list at all), an empty input type refused rather than replaced,
 * a model that is not an embedkit model refused as `model` when it is first used, and LangChain's own
 * caller left without retries.
 */
import { type EmbedRequest, InvalidArgumentError, type Warning } from '@embedkit/core';
import { MockEmbeddingModel } from '@embedkit/core/testing';
import { describe, expect, it } from 'vitest';
import { thrownInvalidArgument } from '../../ai-sdk/test/rejection.js';
import { EmbedkitEmbeddings, type EmbedkitEmbeddingsParams } from '../src/index.js';
import { countingModel } from './counting-model.js';
import { refusal } from './refusal.js';

const TAKES =
  'It takes headers, providerOptions, maxRetries, maxRetryDelayMs, timeoutMs, concurrency, rateLimit, tokenCounter, onProgress, onRetry, onWait, onWarning, clock, model, dimensions, truncate, strict, maxInputsPerCall, documentInputType, queryInputType, maxConcurrency.';

describe('the parameters object', () => {
  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'text-embedding-3-small'],
    ['an array', [new MockEmbeddingModel()]],
  ])('%s in its place is refused as params, saying one object is taken', (_label, params) => {
    const error = thrownInvalidArgument(() => new EmbedkitEmbeddings(params as never));
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('params');
    expect(error.message).toBe('new EmbedkitEmbeddings takes one parameters object, { model, … }.');
  });

  it('refuses inputType, which each side sets for itself, naming documentInputType and queryInputType', () => {
    const model = new MockEmbeddingModel();
    const error = thrownInvalidArgument(() => new EmbedkitEmbeddings({ model, inputType: 'query' } as never));
    expect(error.argument).toBe('inputType');
    expect(error.message).toBe(
      'EmbedkitEmbeddings has no parameter inputType: pass documentInputType and queryInputType.',
    );
  });

  it("refuses LangChain's onFailedAttempt, saying the retries are embedkit's", () => {
    const params = { model: new MockEmbeddingModel(), onFailedAttempt: () => {} };
    const error = thrownInvalidArgument(
      () => new EmbedkitEmbeddings(params as unknown as EmbedkitEmbeddingsParams),
    );
    expect(error.argument).toBe('onFailedAttempt');
    expect(error.message).toBe(
      'EmbedkitEmbeddings has no parameter onFailedAttempt: retries are embedkit’s (maxRetries, onRetry); LangChain’s caller, which it configures, is not used.',
    );
  });

  it.each([
    ['outputType', 'int8'],
    ['signal', new AbortController().signal],
  ])('refuses %s, a setting of one embedkit call, listing the parameters it takes', (name, value) => {
    const model = new MockEmbeddingModel();
    const params = { model, [name]: value } as unknown as EmbedkitEmbeddingsParams;
    const error = thrownInvalidArgument(() => new EmbedkitEmbeddings(params));
    expect(error.argument).toBe(name);
    expect(error.message).toBe(`EmbedkitEmbeddings has no parameter ${name}. ${TAKES}`);
  });

  it('takes maxConcurrency up to 10,000 and refuses one more with the range said', () => {
    const model = new MockEmbeddingModel();
    expect(() => new EmbedkitEmbeddings({ model, maxConcurrency: 10_000 })).not.toThrow();
    const error = thrownInvalidArgument(() => new EmbedkitEmbeddings({ model, maxConcurrency: 10_001 }));
    expect(error.message).toBe(
      "maxConcurrency (embedkit's concurrency) must be a whole number from 1 to 10,000, got 10001.",
    );
  });
});

describe('concurrency given alone', () => {
  it('is kept: one call in flight at a time for concurrency 1', async () => {
    const { model, maxInFlight } = countingModel();
    const embeddings = new EmbedkitEmbeddings({ model, concurrency: 1, maxInputsPerCall: 1 });
    const vectors = await embeddings.embedDocuments(['a', 'b', 'c', 'd']);
    expect(vectors).toHaveLength(4);
    expect(model.calls.map((call) => call.inputs)).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(maxInFlight()).toBe(1);
  });

  it('without it, the engine runs several calls at once (what concurrency 1 holds back)', async () => {
    const { model, maxInFlight } = countingModel();
    await new EmbedkitEmbeddings({ model, maxInputsPerCall: 1 }).embedDocuments(['a', 'b', 'c', 'd']);
    expect(maxInFlight()).toBe(4);
  });
});

describe('the input type of each side', () => {
  const sides = async (model: MockEmbeddingModel, warnings: Warning[]) => {
    const embeddings = new EmbedkitEmbeddings({ model, onWarning: (warning) => warnings.push(warning) });
    await embeddings.embedDocuments(['d']);
    await embeddings.embedQuery('q');
    return model.calls.map((call: EmbedRequest) => call.inputType);
  };

  it('is document for documents and none for queries, for a model with only document', async () => {
    const warnings: Warning[] = [];
    const model = new MockEmbeddingModel({ capabilities: { inputTypes: ['document'] } });
    expect(await sides(model, warnings)).toEqual(['document', undefined]);
    expect(warnings).toEqual([]);
  });

  it('is none for documents and query for queries, for a model with only query', async () => {
    const warnings: Warning[] = [];
    const model = new MockEmbeddingModel({ capabilities: { inputTypes: ['query'] } });
    expect(await sides(model, warnings)).toEqual([undefined, 'query']);
    expect(warnings).toEqual([]);
  });

  it('is none on either side for a model that lists no input types', async () => {
    const warnings: Warning[] = [];
    const model = new MockEmbeddingModel({ capabilities: { inputTypes: [] } });
    expect(await sides(model, warnings)).toEqual([undefined, undefined]);
    expect(warnings).toEqual([]);
  });

  it('refuses, as core does, a model whose capabilities leave inputTypes out', async () => {
    const model = new MockEmbeddingModel();
    const { inputTypes: _omitted, ...capabilities } = model.capabilities;
    Object.defineProperty(model, 'capabilities', { value: capabilities });
    const error = await new EmbedkitEmbeddings({ model }).embedDocuments(['d']).catch((e: unknown) => e);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('model.capabilities.inputTypes');
  });

  it('given as an empty string, is refused when used, not replaced by the default', async () => {
    const model = new MockEmbeddingModel();
    const documents = await refusal(
      new EmbedkitEmbeddings({ model, documentInputType: '' as never }).embedDocuments(['d']),
    );
    const query = await refusal(
      new EmbedkitEmbeddings({ model, queryInputType: '' as never }).embedQuery('q'),
    );
    for (const error of [documents, query]) {
      expect(error.argument).toBe('inputType');
      expect(error.message).toBe(
        'inputType must be one of query, document, similarity, classification, clustering, code-query, code-document, question-answering, fact-verification; got an empty string.',
      );
    }
    expect(model.calls).toEqual([]);
  });
});

describe('a model that is not an embedkit model', () => {
  it.each([
    ['missing', undefined],
    ['an AI SDK model given directly', { specificationVersion: 'v4', provider: 'openai', doEmbed: () => {} }],
  ])('(%s) is refused as model when first used, not with a TypeError', async (_label, model) => {
    const embeddings = new EmbedkitEmbeddings({ model } as never);
    for (const call of [embeddings.embedDocuments(['d']), embeddings.embedQuery('q')]) {
      const error = await refusal(call);
      expect(error.argument).toBe('model');
      expect(error.message).toBe('model must be an embedkit EmbeddingModel (specificationVersion "v1").');
    }
  });
});

describe("LangChain's caller", () => {
  it('retries nothing, should anything call it: a failing function runs once', async () => {
    const embeddings = new EmbedkitEmbeddings({ model: new MockEmbeddingModel() });
    let runs = 0;
    const failure = new Error('unavailable');
    const error = await embeddings.caller
      .call(async () => {
        runs++;
        throw failure;
      })
      .then(
        () => expect.unreachable('the call resolved; it had to fail'),
        (caught: unknown) => caught,
      );
    expect(error).toBe(failure);
    expect(runs).toBe(1);
  });
});
