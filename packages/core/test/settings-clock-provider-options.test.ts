/**
 * `clock` and `providerOptions` are checked by `jobBasics`, the one place every engine checks its
 * settings, before anything is sent. Each test names the defect it catches.
 */
import { describe, expect, it } from 'vitest';
import {
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  embedContextualized,
} from '../src/contextualized.js';
import { embedMany } from '../src/engine/embed.js';
import { type RerankingModel, type RerankRequest, rerank } from '../src/rerank.js';
import {
  BASE_CAPABILITIES,
  invalidArgumentOf as refusal,
  ScriptedModel,
  VirtualClock,
  vectorFor,
} from './helpers.js';

/** Every engine, each with a model that records the calls it gets. */
function engines() {
  const calls: unknown[] = [];
  const embedding = new ScriptedModel();
  const reranker: RerankingModel = {
    specificationVersion: 'v1',
    provider: 'rerank-co',
    modelId: 'rr-1',
    capabilities: { maxDocumentsPerCall: 100, supportsParallelCalls: true },
    async doRerank(request: RerankRequest) {
      calls.push(request);
      return {
        results: request.documents.map((_document, index) => ({ index, relevanceScore: 0.5 })),
        warnings: [],
        response: { status: 200, headers: {} },
      };
    },
  };
  const contextual: ContextualizedEmbeddingModel = {
    specificationVersion: 'v1',
    provider: 'ctx',
    modelId: 'ctx-1',
    capabilities: BASE_CAPABILITIES,
    contextualizedCapabilities: { maxDocumentsPerCall: 100 },
    doEmbed: async () => {
      throw new Error('not used');
    },
    async doEmbedContextualized(request: ContextualizedEmbedRequest) {
      calls.push(request);
      return {
        embeddings: request.documents.map((chunks) => chunks.map((chunk) => vectorFor(chunk))),
        warnings: [],
        response: { status: 200, headers: {} },
      };
    },
  };
  const run: [string, (extra: Record<string, unknown>) => Promise<unknown>][] = [
    ['embedMany', (extra) => embedMany({ model: embedding, inputs: ['a'], ...extra })],
    ['rerank', (extra) => rerank({ model: reranker, query: 'q', documents: ['a'], ...extra })],
    [
      'embedContextualized',
      (extra) => embedContextualized({ model: contextual, documents: [['a', 'b']], ...extra }),
    ],
  ];
  return { run, sent: () => calls.length + embedding.calls.length };
}

describe('clock', () => {
  it.each([
    ['an empty object', {}, 'an empty object'],
    ['an object without sleep', { now: () => 0 }, 'an object with now'],
    ['a string', 'x', '"x"'],
  ])(
    '%s is refused by every engine before a call (it threw "clock.now is not a function" mid-job)',
    async (_label, clock, described) => {
      const { run, sent } = engines();
      for (const [, job] of run) {
        const error = await refusal(job({ clock }));
        expect(error.argument).toBe('clock');
        expect(error.message).toBe(
          `clock must be a Clock with now() and sleep(ms, signal) functions, got ${described}.`,
        );
      }
      expect(sent()).toBe(0);
    },
  );

  it('a clock whose random is not a function is refused (backoff would throw on the first retry)', async () => {
    const { run } = engines();
    const clock = { now: () => 0, sleep: async () => {}, random: 0.5 };
    expect((await refusal(run[0]![1]({ clock }))).argument).toBe('clock');
  });

  it('a Clock is still taken by every engine', async () => {
    const { run, sent } = engines();
    for (const [, job] of run) await job({ clock: new VirtualClock() });
    expect(sent()).toBe(3);
  });
});

describe('providerOptions', () => {
  it.each([
    ['a string', 'x', 'providerOptions', '"x"'],
    ['an array', [{ user: 'u' }], 'providerOptions', 'an array'],
    ['null', null, 'providerOptions', 'null'],
  ])(
    '%s is refused by every engine before a call (it was sent as if no options were given)',
    async (_label, providerOptions, argument, described) => {
      const { run, sent } = engines();
      for (const [, job] of run) {
        const error = await refusal(job({ providerOptions }));
        expect(error.argument).toBe(argument);
        expect(error.message).toBe(
          `providerOptions must be an object of provider names to options, like { gemini: { normalize: false } }; got ${described}.`,
        );
      }
      expect(sent()).toBe(0);
    },
  );

  it('one provider’s entry that is not an object is refused, naming that provider', async () => {
    const { run, sent } = engines();
    for (const [, job] of run) {
      const error = await refusal(job({ providerOptions: { scripted: 'fast' } }));
      expect(error.argument).toBe('providerOptions.scripted');
      expect(error.message).toBe('providerOptions.scripted must be an object of options, got "fast".');
    }
    expect(sent()).toBe(0);
  });

  it('objects of options are sent as they were', async () => {
    const model = new ScriptedModel();
    const providerOptions = { scripted: { user: 'u-1' }, other: Object.create(null) };
    await embedMany({ model, inputs: ['a'], providerOptions });
    expect(model.calls[0]!.request.providerOptions).toBe(providerOptions);
  });
});
