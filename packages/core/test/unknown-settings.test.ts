/**
 * A setting no function reads is refused before anything is sent. Before, `embedMany({ dimension: 256 })`
 * went out without `dimensions` and came back with vectors of the model's default length; the AI SDK's
 * `values`, `maxParallelCalls` and `abortSignal` were dropped the same way (no inputs, full concurrency,
 * no abort); `createRateLimiter({ tokensPerMin })` made a limiter with no budget at all. Each test fails
 * without the check it names.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type CreateBatchJobOptions, sendBatchJobRequest, waitForBatchJob } from '../src/batch-jobs.js';
import { cacheMiddleware, createMemoryCacheStore } from '../src/cache.js';
import { encodeEmbedding } from '../src/cache-codec.js';
import {
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  embedContextualized,
} from '../src/contextualized.js';
import { embed, embedMany, embedStream } from '../src/engine/embed.js';
import { createRateLimiter } from '../src/engine/limiter.js';
import { CALL_SETTING_NAMES, EMBED_SETTING_NAMES } from '../src/engine/settings.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import { checkProviderSettings, PROVIDER_SETTING_NAMES } from '../src/provider-utils.js';
import { type RerankingModel, type RerankRequest, rerank } from '../src/rerank.js';
import { topK } from '../src/search/top-k.js';
import {
  closestName,
  omitSettingNames,
  refuseUnknownSettings,
  type SettingNames,
} from '../src/setting-names.js';
import { MockEmbeddingModel } from '../src/testing.js';
import { invalidArgumentOf as refusal, ScriptedModel, textCapabilities, vectorFor } from './helpers.js';

/** Settings a TypeScript caller could not write, as a JavaScript caller (or a spread object) can. */
function loose(settings: object): never {
  return settings as never;
}

describe('closestName', () => {
  it.each([
    ['dimension', 'dimensions'],
    ['modle', 'model'],
    ['baseUrl', 'baseURL'],
    ['BASEURL', 'baseURL'],
    ['inputtype', 'inputType'],
    ['tokensPerMin', 'tokensPerMinute'],
    ['x', undefined],
    ['onWarn', 'onWarning'],
    ['onW', undefined],
  ])('%s is a typo of %s', (name, expected) => {
    expect(
      closestName(name, [
        'model',
        'dimensions',
        'baseURL',
        'inputType',
        'tokensPerMinute',
        'onWait',
        'onWarning',
      ]),
    ).toBe(expected);
  });

  it('a name cut short suggests the one name it begins, only when there is one (onWarn said onWait)', () => {
    expect(closestName('maxRetry', ['maxRetries', 'maxRetryDelayMs'])).toBeUndefined();
    expect(closestName('x'.repeat(100_000), ['model'])).toBeUndefined();
  });
});

describe('refuseUnknownSettings', () => {
  const known = { model: true, dimensions: true } as const;

  it('names the owner, the setting and the one it is a typo of', async () => {
    const error = await refusal(() => refuseUnknownSettings({ model: 1, dimension: 3 }, known, 'embedMany'));
    expect(error.message).toBe('embedMany has no setting dimension; did you mean dimensions?');
    expect(error.argument).toBe('dimension');
  });

  it('says what to use instead of a borrowed name, before any typo guess', async () => {
    const error = await refusal(() =>
      refuseUnknownSettings({ dimension: 3 }, known, 'f', { instead: { dimension: 'pass dimensions' } }),
    );
    expect(error.message).toBe('f has no setting dimension: pass dimensions.');
  });

  it('lists what it takes when the name is like none of them', async () => {
    const error = await refusal(() =>
      refuseUnknownSettings({ colour: 'red' }, known, 'f', { noun: 'option' }),
    );
    expect(error.message).toBe('f has no option colour. It takes model, dimensions.');
  });

  it('settings that are not an object are refused by name (topK(q, v, 1, null) was a TypeError)', async () => {
    expect(
      (await refusal(() => refuseUnknownSettings(null as never, known, 'topK', { noun: 'option' }))).message,
    ).toBe('topK takes an object of options, or none.');
  });

  it('lets an unknown name through when its value is undefined (a spread of absent settings changes nothing)', () => {
    expect(() => refuseUnknownSettings({ model: 1, dimension: undefined }, known, 'f')).not.toThrow();
  });

  it('omitSettingNames leaves out the names given, and only those, without changing its argument', () => {
    const names: SettingNames<{ a?: 1; b?: 2; c?: 3 }> = { a: true, b: true, c: true };
    expect(omitSettingNames(names, ['b'])).toEqual({ a: true, c: true });
    expect(names).toEqual({ a: true, b: true, c: true });
  });

  it('does not read inherited names as settings', () => {
    const settings = Object.create({ inherited: 1 }) as object;
    expect(() => refuseUnknownSettings(settings, known, 'f')).not.toThrow();
  });

  it('the name records are checked against their interfaces by the compiler, both ways', () => {
    interface Two {
      a?: number;
      b?: string;
    }
    // @ts-expect-error b is left out
    const missing: SettingNames<Two> = { a: true };
    // @ts-expect-error c is no setting of Two
    const extra: SettingNames<Two> = { a: true, b: true, c: true };
    expect([missing, extra]).toHaveLength(2);
    expectTypeOf(EMBED_SETTING_NAMES).toEqualTypeOf<
      SettingNames<import('../src/engine/settings.js').EmbedSettings>
    >();
  });
});

describe('the embedding jobs', () => {
  it('embedMany: dimension for dimensions is refused before any call (it went out without dimensions)', async () => {
    const model = new ScriptedModel();
    const error = await refusal(() => embedMany(loose({ model, inputs: ['a'], dimension: 3 })));
    expect(error.message).toBe('embedMany has no setting dimension; did you mean dimensions?');
    expect(model.calls).toHaveLength(0);
  });

  it.each([
    [
      'values',
      ['a'],
      'embedMany has no setting values: it takes an array of inputs, as inputs; for one input, call embed({ model, input }).',
    ],
    [
      'maxParallelCalls',
      2,
      'embedMany has no setting maxParallelCalls: the calls in flight at once are concurrency.',
    ],
    [
      'abortSignal',
      new AbortController().signal,
      'embedMany has no setting abortSignal: pass the AbortSignal as signal.',
    ],
    [
      'batchSize',
      10,
      'embedMany has no setting batchSize: calls are packed by the model’s count and token limits; to send fewer inputs per call, pass maxInputsPerCall.',
    ],
    [
      'user',
      'u-1',
      'embedMany has no setting user: pass it under providerOptions, e.g. providerOptions: { openai: { user } }.',
    ],
  ])('embedMany: the AI SDK or OpenAI name %s says what to pass instead', async (name, value, message) => {
    const model = new ScriptedModel();
    const error = await refusal(() => embedMany(loose({ model, inputs: ['a'], [name]: value })));
    expect(error.message).toBe(message);
    expect(error.argument).toBe(name);
    expect(model.calls).toHaveLength(0);
  });

  it('embed: value (the AI SDK’s) is refused, and a typo of a call setting is named', async () => {
    const model = new ScriptedModel();
    expect((await refusal(() => embed(loose({ model, value: 'a' })))).message).toBe(
      'embed has no setting value: it takes one input, as input; for an array of inputs, call embedMany({ model, inputs }).',
    );
    expect((await refusal(() => embed(loose({ model, input: 'a', timeout: 5 })))).message).toBe(
      'embed has no setting timeout; did you mean timeoutMs?',
    );
    expect(model.calls).toHaveLength(0);
  });

  it('embedStream: flushAfter for flushAfterMs is refused before the source is read', async () => {
    const model = new ScriptedModel();
    let read = 0;
    function* source() {
      read++;
      yield 'a';
    }
    const stream = embedStream(loose({ model, inputs: source(), flushAfter: 10 }));
    const error = await refusal(() => stream.next());
    expect(error.message).toBe('embedStream has no setting flushAfter; did you mean flushAfterMs?');
    expect(read).toBe(0);
    expect(model.calls).toHaveLength(0);
  });

  it('every documented setting is taken (each one set, the call goes out)', async () => {
    const model = new ScriptedModel({ capabilities: { dimensions: [2] } });
    await embedMany({
      model,
      inputs: ['a'],
      inputType: 'query',
      dimensions: 2,
      outputType: 'float',
      truncate: false,
      strict: false,
      maxInputsPerCall: 1,
      headers: { 'x-trace': '1' },
      providerOptions: {},
      maxRetries: 0,
      maxRetryDelayMs: 1,
      timeoutMs: 1_000,
      signal: new AbortController().signal,
      concurrency: 1,
      rateLimit: createRateLimiter(),
      tokenCounter: { exact: false, count: () => 1 },
      onProgress: () => {},
      onRetry: () => {},
      onWait: () => {},
      onWarning: () => {},
    });
    expect(model.calls).toHaveLength(1);
    expect(Object.keys(CALL_SETTING_NAMES)).toHaveLength(14);
  });
});

describe('input objects', () => {
  it('a misspelt field of an input (titel, mediatype) is refused before any call; it was dropped', async () => {
    const model = new ScriptedModel({ capabilities: { modalities: ['text', 'image'] } });
    const titel = await refusal(() => embedMany(loose({ model, inputs: ['a', { text: 'b', titel: 'B' }] })));
    expect(titel.message).toBe('Input 1 has no field titel; did you mean title?');
    expect(titel.argument).toBe('inputs[1].titel');
    const mediatype = await refusal(() =>
      embedMany(loose({ model, inputs: [{ image: 'https://x.test/a.png', mediatype: 'image/png' }] })),
    );
    expect(mediatype.message).toBe('Input 0 has no field mediatype; did you mean mediaType?');
    const part = await refusal(() =>
      embedMany(
        loose({
          model,
          inputs: [{ content: [{ type: 'image', url: 'https://x.test/a.png', mediaTyp: 'x' }] }],
        }),
      ),
    );
    expect(part.message).toBe('Part 0 of input 0 has no field mediaTyp; did you mean mediaType?');
    expect(model.calls).toHaveLength(0);
  });

  it('a field of the caller’s own (the id of the record an input came from) is let through', async () => {
    const model = new ScriptedModel();
    await embedMany(
      loose({
        model,
        inputs: [
          { text: 'a', id: 'doc-7' },
          { text: 'b', title: 'B', source: 'wiki' },
        ],
      }),
    );
    expect(model.calls).toHaveLength(1);
  });
});

describe('rerank and contextualized embeddings', () => {
  const reranker = (): RerankingModel & { calls: RerankRequest[] } => {
    const calls: RerankRequest[] = [];
    return {
      specificationVersion: 'v1',
      provider: 'rr',
      modelId: 'rr-1',
      capabilities: { maxDocumentsPerCall: 10, supportsParallelCalls: true },
      calls,
      async doRerank(request) {
        calls.push(request);
        return {
          results: request.documents
            .map((_, index) => ({ index, relevanceScore: 1 / (index + 1) }))
            .slice(0, request.topN ?? request.documents.length),
          warnings: [],
          response: { status: 200, headers: {} },
        };
      },
    };
  };

  it('rerank: topK (other libraries’ name) says topN; topn is a typo of it', async () => {
    const model = reranker();
    expect(
      (await refusal(() => rerank(loose({ model, query: 'q', documents: ['a'], topK: 1 })))).message,
    ).toBe('rerank has no setting topK: the number of documents returned is topN.');
    expect(
      (await refusal(() => rerank(loose({ model, query: 'q', documents: ['a'], topn: 1 })))).message,
    ).toBe('rerank has no setting topn; did you mean topN?');
    expect(model.calls).toHaveLength(0);
    await rerank({
      model,
      query: 'q',
      documents: ['a', 'b'],
      topN: 1,
      truncate: false,
      maxDocumentsPerCall: 2,
    });
    expect(model.calls).toHaveLength(1);
  });

  it('rerank and embedContextualized say their own names for batchSize (they named maxInputsPerCall, which they refuse)', async () => {
    const model = reranker();
    expect(
      (await refusal(() => rerank(loose({ model, query: 'q', documents: ['a'], batchSize: 2 })))).message,
    ).toBe(
      'rerank has no setting batchSize: calls are packed by the model’s document and token limits; to send fewer documents per call, pass maxDocumentsPerCall.',
    );
    expect(
      (await refusal(() => rerank(loose({ model, query: 'q', documents: ['a'], taskType: 'x' })))).message,
    ).toMatch(/^rerank has no setting taskType\. It takes /);
    expect(model.calls).toHaveLength(0);
  });

  it('embedContextualized: inputs says documents; maxChunkPerCall is a typo', async () => {
    const calls: ContextualizedEmbedRequest[] = [];
    const model: ContextualizedEmbeddingModel = {
      specificationVersion: 'v1',
      provider: 'ctx',
      modelId: 'ctx-1',
      capabilities: textCapabilities({ dimensions: [3] }),
      contextualizedCapabilities: { maxDocumentsPerCall: 10 },
      doEmbed: async () => {
        throw new Error('not used');
      },
      async doEmbedContextualized(request) {
        calls.push(request);
        return {
          embeddings: request.documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk))),
          warnings: [],
          response: { status: 200, headers: {} },
        };
      },
    };
    expect((await refusal(() => embedContextualized(loose({ model, inputs: [['a']] })))).message).toBe(
      'embedContextualized has no setting inputs: pass documents, each a list of its chunks.',
    );
    expect(
      (await refusal(() => embedContextualized(loose({ model, documents: [['a']], maxChunkPerCall: 1 }))))
        .message,
    ).toBe('embedContextualized has no setting maxChunkPerCall; did you mean maxChunksPerCall?');
    expect(calls).toHaveLength(0);
  });
});

describe('batch jobs', () => {
  const JOBS = { provider: 'acme', modelId: 'embed-1' };

  it('create: displayname is refused before the request is sent; get: a create-only option is refused', async () => {
    let sent = 0;
    const send = async () => {
      sent++;
      return 'ok';
    };
    expect(
      (
        await refusal(() =>
          sendBatchJobRequest(JOBS, 'create', loose({ inputs: ['a'], displayname: 'x' }), send),
        )
      ).message,
    ).toBe('create has no option displayname; did you mean displayName?');
    expect(
      (await refusal(() => sendBatchJobRequest(JOBS, 'get', loose({ inputs: ['a'] }), send))).message,
    ).toBe(
      'get has no option inputs. It takes signal, timeoutMs, maxRetries, maxRetryDelayMs, onRetry, onWait, headers, providerOptions, clock, onWarning.',
    );
    expect(sent).toBe(0);
    const create: CreateBatchJobOptions = { inputs: ['a'], displayName: 'x', dimensions: 3 };
    await sendBatchJobRequest(JOBS, 'create', create, send);
    expect(sent).toBe(1);
  });

  it('wait: pollInterval for pollIntervalMs is refused before the first poll', async () => {
    let polls = 0;
    const get = async () => {
      polls++;
      return { id: 'b', state: 'succeeded' as const };
    };
    expect(
      (await refusal(() => waitForBatchJob(get as never, 'b', loose({ pollInterval: 5 })))).message,
    ).toBe('wait has no option pollInterval; did you mean pollIntervalMs?');
    expect(polls).toBe(0);
  });
});

describe('limiter, cache and search options', () => {
  it('createRateLimiter: tokensPerMin made a limiter with no budget; it is refused', async () => {
    expect((await refusal(() => createRateLimiter(loose({ tokensPerMin: 1_000 })))).message).toBe(
      'createRateLimiter has no option tokensPerMin; did you mean tokensPerMinute?',
    );
    expect((await refusal(() => createRateLimiter(loose({ budget: 1_000 })))).message).toBe(
      'createRateLimiter has no option budget. It takes requestsPerMinute, tokensPerMinute, store, key, learnFromHeaders, adaptive.',
    );
    expect((await refusal(() => createRateLimiter(loose({ rpm: 60 })))).message).toBe(
      'createRateLimiter has no option rpm: pass requestsPerMinute.',
    );
    expect((await refusal(() => createRateLimiter(loose({ tokensPerMinte: 60 })))).message).toBe(
      'createRateLimiter has no option tokensPerMinte; did you mean tokensPerMinute?',
    );
  });

  it('cacheMiddleware: an unknown option, a store without get and set, and an onWarning that is no function', async () => {
    expect((await refusal(() => cacheMiddleware(loose({ stor: createMemoryCacheStore() })))).message).toBe(
      'cacheMiddleware has no option stor; did you mean store?',
    );
    expect((await refusal(() => cacheMiddleware(loose({ store: { directory: '/tmp' } })))).argument).toBe(
      'store',
    );
    expect((await refusal(() => cacheMiddleware(loose({ onWarning: 'log' })))).argument).toBe('onWarning');
    expect((await refusal(() => cacheMiddleware(loose([])))).message).toBe(
      'cacheMiddleware takes an options object, or none.',
    );
  });

  it('createMemoryCacheStore: maxEntires is a typo; maxEntries must be a whole number of at least 1', async () => {
    expect((await refusal(() => createMemoryCacheStore(loose({ maxEntires: 5 })))).message).toBe(
      'createMemoryCacheStore has no option maxEntires; did you mean maxEntries?',
    );
    expect((await refusal(() => createMemoryCacheStore({ maxEntries: 0 }))).argument).toBe('maxEntries');
    expect((await refusal(() => createMemoryCacheStore(loose({ maxEntries: '5' })))).argument).toBe(
      'maxEntries',
    );
  });

  it('encodeEmbedding: expiresIn (a duration) for expiresAt (a time) is refused; the entry never expired', async () => {
    expect(
      (await refusal(() => encodeEmbedding(new Float32Array([1]), loose({ expiresIn: 60_000 })))).message,
    ).toBe('encodeEmbedding has no option expiresIn; did you mean expiresAt?');
  });

  it('topK: metrics for metric is refused (the ranking would have been cosine whatever was asked)', async () => {
    const vectors = [new Float32Array([1, 0]), new Float32Array([0, 1])];
    expect(
      (await refusal(() => topK(new Float32Array([1, 0]), vectors, 1, loose({ metrics: 'dot' })))).message,
    ).toBe('topK has no option metrics; did you mean metric?');
  });
});

describe('middleware, capabilities and the mock model', () => {
  it('a middleware whose only hook is misspelt is refused (it wrapped the model and did nothing); {} is let through', async () => {
    const model = new ScriptedModel();
    const typo = await refusal(() => wrapEmbeddingModel(model, loose({ wrapEmbedd: async () => undefined })));
    expect(typo.message).toBe(
      'middleware has neither transformRequest nor wrapEmbed, so it would do nothing; did you mean wrapEmbed for wrapEmbedd?',
    );
    const listed = await refusal(() =>
      wrapEmbeddingModel(model, [{}, loose({ transformRequest: 'lowercase' })]),
    );
    expect(listed.message).toBe('middleware[1].transformRequest must be a function.');
    expect(
      (await refusal(() => wrapEmbeddingModel(model, loose({ wrapEmbedding: async () => undefined }))))
        .message,
    ).toBe(
      'middleware has neither transformRequest nor wrapEmbed, so it would do nothing; wrapEmbedding is not a hook',
    );
    expect(() => wrapEmbeddingModel(model, {})).not.toThrow();
    expect(() => wrapEmbeddingModel(model, { transformRequest: undefined })).not.toThrow();
    expect(() =>
      wrapEmbeddingModel(model, loose({ state: new Map(), wrapEmbed: async () => undefined })),
    ).not.toThrow();
  });

  it('MockEmbeddingModel refuses dimension for dimensions, and a capability no model has', async () => {
    expect((await refusal(() => new MockEmbeddingModel(loose({ dimension: 4 })))).message).toBe(
      'MockEmbeddingModel has no option dimension; did you mean dimensions?',
    );
    expect(
      (await refusal(() => new MockEmbeddingModel({ capabilities: loose({ maxInputPerCall: 4 }) }))).message,
    ).toBe(
      'MockEmbeddingModel capabilities has no capability maxInputPerCall; did you mean maxInputsPerCall?',
    );
  });
});

describe('provider settings', () => {
  const known: SettingNames<{ apiKey?: string; baseURL?: string }> & typeof PROVIDER_SETTING_NAMES = {
    ...PROVIDER_SETTING_NAMES,
    apiKey: true,
    baseURL: true,
  };

  it.each([
    [{ baseUrl: 'http://localhost:8000/v1' }, 'createAcme has no setting baseUrl: pass baseURL.'],
    [{ api_key: 'k' }, 'createAcme has no setting api_key: pass apiKey.'],
    [{ apikey: 'k' }, 'createAcme has no setting apikey; did you mean apiKey?'],
    [
      { timeout: 5 },
      'createAcme has no setting timeout: the timeout is a setting of each call (embedMany({ timeoutMs })).',
    ],
  ])(
    '%j is refused (every call would have gone to the default server, or as if it were not given)',
    async (settings, message) => {
      expect((await refusal(() => checkProviderSettings(settings, known, 'createAcme'))).message).toBe(
        message,
      );
    },
  );

  it('absent settings pass; settings that are not an object are refused', async () => {
    expect(() => checkProviderSettings(undefined, known, 'createAcme')).not.toThrow();
    expect(() =>
      checkProviderSettings({ apiKey: 'k', fetch, maxResponseBytes: 1 }, known, 'createAcme'),
    ).not.toThrow();
    expect((await refusal(() => checkProviderSettings('sk-key', known, 'createAcme'))).message).toBe(
      'createAcme takes a settings object, e.g. createAcme({ apiKey }).',
    );
  });
});
