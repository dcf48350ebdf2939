/**
 * Contextualized limits held against the wire: the declared document and chunk limits within the API's,
 * a call at the document limit, one over, by chunks and tokens, a document never split, and bisection on
 * the API's "too large" answer. Every call is planned by what the model declares, as the engine packs it.
 */
import { strict as assert } from 'node:assert';
import { embedContextualized, type TokenCounter } from '@embedkit/core';
import {
  budgetSplit,
  type Case,
  callTokenBudget,
  check,
  type Family,
  inCalls,
  noCallHolds,
  type SkippedCase,
  skip,
} from '../../suite/family.js';
import { nothingSent } from './basics.js';
import type { ContextualizedSuite, ContextualizedWorld } from './suite.js';

export const contextualizedLimits: Family<ContextualizedSuite, ContextualizedWorld> = {
  name: 'ctx-limits',
  checks:
    'declared limits within the wire limits; at the document limit one call, one over two; chunk and token packing; bisection',
  splits: true,
  cases: (suite) => {
    const { wire, limits, cap, chunkCap } = suite;
    /** The chunk counts of each call the API received. */
    const chunksPerCall = (world: ContextualizedWorld) =>
      world.interceptor.requests.map((request) =>
        wire.documentsOf(request.body).reduce((sum, document) => sum + document.length, 0),
      );
    /**
     * Documents of these chunk counts that the engine packs in `calls` by their count and chunks alone, the
     * declared token budget closing no call first: the suite's own where the budget lets them, else chunks
     * of a token each; undefined where not even those fit.
     */
    const fitting = (chunkCounts: readonly number[], calls: readonly number[], prefix: string) => {
      let next = 0;
      // The shortest distinct chunks: base-36 numbers, a token each by the engine's estimate.
      const short = chunkCounts.map((chunks) => Array.from({ length: chunks }, () => (next++).toString(36)));
      return [suite.documents(chunkCounts, prefix), short].find(
        (documents) => suite.plan(documents).join() === calls.join(),
      );
    };
    // The token budget the engine closes a call at: the declared one, or the model's limiter's a minute
    // where that is lower.
    const tokenBudget = callTokenBudget(suite.callLimits(), 'contextualized maxTokensPerCall');
    /** Why a case needing `count` documents in a call is skipped where `fitting` finds none. */
    const budgetBinds = (count: number) => noCallHolds(tokenBudget, count, 'documents');
    const atLimit = fitting(new Array<number>(cap).fill(1), [cap], 'at');
    const aboveLimit = fitting(new Array<number>(cap + 1).fill(1), [cap, 1], 'above');
    const cases: (Case<ContextualizedWorld> | SkippedCase)[] = [
      check(
        'ctx-declared-limits',
        'capabilities that claim more documents or chunks per call than the API takes',
        async () => {
          if (wire.maxDocumentsPerRequest !== undefined)
            assert.ok(
              limits.maxDocumentsPerCall <= wire.maxDocumentsPerRequest,
              `maxDocumentsPerCall ${limits.maxDocumentsPerCall} is above the API's ${wire.maxDocumentsPerRequest}`,
            );
          if (wire.maxChunksPerRequest !== undefined)
            assert.ok(
              (limits.maxChunksPerCall ?? Number.POSITIVE_INFINITY) <= wire.maxChunksPerRequest,
              `maxChunksPerCall ${limits.maxChunksPerCall} is above the API's ${wire.maxChunksPerRequest}`,
            );
        },
      ),
      atLimit === undefined
        ? skip('ctx-split-at-max-documents', budgetBinds(cap))
        : check(
            'ctx-split-at-max-documents',
            'a call at the declared document limit (or at the chunk limit, when lower) refused by the API',
            async (world) => {
              const documents = atLimit;
              world.respond(cap, suite.success());
              const result = await embedContextualized(suite.settings(world, { documents }));
              suite.expectVectors(result, documents);
              assert.equal(world.interceptor.requests.length, 1, `${cap} documents fit one call`);
            },
          ),
      aboveLimit === undefined
        ? skip('ctx-split-above-max-documents', budgetBinds(cap))
        : check(
            'ctx-split-above-max-documents',
            'one document over the limit not split off',
            async (world) => {
              const documents = aboveLimit;
              world.respond(cap, suite.success());
              world.respond(1, suite.success());
              const result = await embedContextualized(suite.settings(world, { documents }));
              suite.expectVectors(result, documents);
              assert.deepEqual(
                world.interceptor.requests
                  .map((request) => wire.documentsOf(request.body).length)
                  .sort((a, b) => b - a),
                [cap, 1],
              );
            },
          ),
      check(
        'ctx-document-over-chunk-limit',
        'a document with more chunks than a call takes sent anyway',
        (world) =>
          nothingSent(
            suite,
            world,
            {
              // One chunk over the lower of the setting and the declared limit (`documents` keeps within it).
              documents: [
                ['over 0 chunk 0'],
                Array.from({ length: Math.min(2, chunkCap) + 1 }, (_, chunk) => `over 1 chunk ${chunk}`),
              ],
              maxChunksPerCall: 2,
            },
            'documents[1]',
          ),
      ),
    ];
    if (cap < 2) {
      for (const id of ['ctx-split-by-chunks', 'ctx-token-budget-split', 'ctx-batch-too-large-bisects'])
        cases.push(skip(id, 'the model takes one document per call'));
      return cases;
    }
    cases.push(
      check(
        'ctx-split-by-chunks',
        'calls packed past the chunk limit, or a document split across calls',
        async (world) => {
          // At a limit of 4 chunks: [3] and [2, 2]; at a declared 3: [2] and [2, 1] — a document is never
          // split across calls, and the engine packs under the lower of the setting and the declared limit.
          const limit = Math.min(4, chunkCap);
          const documents = suite.documents([limit - 1, 2, Math.max(1, limit - 2)], 'chunks');
          const extra = { maxChunksPerCall: 4, concurrency: 1 };
          const calls = suite.respondAll(world, documents, suite.success(), extra);
          const result = await embedContextualized(suite.settings(world, { documents, ...extra }));
          suite.expectVectors(result, documents);
          assert.deepEqual(
            world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
            inCalls(documents, calls),
          );
          for (const [index, chunks] of chunksPerCall(world).entries())
            assert.ok(chunks <= limit, `call ${index} carries ${chunks} chunks, over the limit of ${limit}`);
        },
      ),
    );
    const budget = tokenBudget?.tokens;
    // Documents that fit one call by the declared chunk limit: of two chunks where they can.
    const bisectCounts = [1, 2, 1, 2].slice(0, Math.min(4, cap));
    const bisectFits = bisectCounts.reduce((sum, chunks) => sum + chunks, 0) <= chunkCap;
    const counts = bisectFits ? bisectCounts : bisectCounts.map(() => 1);
    const bisected = fitting(counts, [counts.length], 'bisect');
    cases.push(
      budget === undefined
        ? skip(
            'ctx-token-budget-split',
            'the model declares no contextualized maxTokensPerCall, nor its limiter a tokensPerMinute',
          )
        : check('ctx-token-budget-split', 'calls packed past the token budget', async (world) => {
            // Three one-chunk documents whose counts fit the budget, however small, split otherwise than
            // the document cap alone would: two that make it, then one (at two documents a call: one that
            // makes it, then two; at a budget of one token, a call each).
            const documents = suite.documents([1, 1, 1], 'budget');
            const split = budgetSplit(budget, cap);
            const table = new Map(documents.map((document, index) => [document[0]!, split.counts[index]!]));
            const counter: TokenCounter = { exact: false, count: (chunk) => table.get(chunk as string) ?? 1 };
            const extra = { tokenCounter: counter, concurrency: 1 };
            const calls = suite.respondAll(world, documents, suite.success(), extra);
            assert.deepEqual(calls, split.calls, 'the calls the budget splits the documents into');
            const result = await embedContextualized(suite.settings(world, { documents, ...extra }));
            suite.expectVectors(result, documents);
            assert.deepEqual(
              world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
              inCalls(documents, calls),
            );
          }),
      wire.signals?.batchTooLarge !== true
        ? skip(
            'ctx-batch-too-large-bisects',
            'the wire profile declares no batch-too-large signal (signals.batchTooLarge)',
          )
        : bisected === undefined
          ? skip('ctx-batch-too-large-bisects', budgetBinds(counts.length))
          : check(
              'ctx-batch-too-large-bisects',
              '"too many tokens" not recognised, so the call is not bisected',
              async (world) => {
                const documents = bisected;
                const half = Math.ceil(documents.length / 2);
                world.respond(
                  documents.length,
                  suite.errorReply(400, 'too many tokens in this request', { kind: 'batch-too-large' }),
                );
                world.respond(half, suite.success());
                world.respond(documents.length - half, suite.success());
                const result = await embedContextualized(
                  suite.settings(world, { documents, concurrency: 1 }),
                );
                suite.expectVectors(result, documents);
                assert.deepEqual(
                  world.interceptor.requests.map((request) => wire.documentsOf(request.body).length),
                  [documents.length, half, documents.length - half],
                );
              },
            ),
    );
    return cases;
  },
};
