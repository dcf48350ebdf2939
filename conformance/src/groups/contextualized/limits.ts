/**
 * Contextualized limits held against the wire: the declared document and chunk limits within the API's,
 * a call at the document limit, one over, by chunks and tokens, a document never split, and bisection on
 * the API's "too large" answer.
 */
import { strict as assert } from 'node:assert';
import { embedContextualized, type TokenCounter } from '@embedkit/core';
import { type Case, check, type Family, type SkippedCase, skip } from '../../suite/family.js';
import { nothingSent } from './basics.js';
import type { ContextualizedSuite, ContextualizedWorld } from './suite.js';

export const contextualizedLimits: Family<ContextualizedSuite, ContextualizedWorld> = {
  name: 'ctx-limits',
  checks:
    'declared limits within the wire limits; at the document limit one call, one over two; chunk and token packing; bisection',
  splits: true,
  cases: (suite) => {
    const { wire, limits, cap } = suite;
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
      check(
        'ctx-split-at-max-documents',
        'a call at the declared document limit refused by the API',
        async (world) => {
          const documents = suite.documents(new Array<number>(cap).fill(1), 'at');
          world.respond(cap, suite.success());
          const result = await embedContextualized(suite.settings(world, { documents }));
          suite.expectVectors(result, documents);
          assert.equal(world.interceptor.requests.length, 1, `${cap} documents fit one call`);
        },
      ),
      check('ctx-split-above-max-documents', 'one document over the limit not split off', async (world) => {
        const documents = suite.documents(new Array<number>(cap + 1).fill(1), 'above');
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
      }),
      check(
        'ctx-document-over-chunk-limit',
        'a document with more chunks than a call takes sent anyway',
        (world) =>
          nothingSent(
            suite,
            world,
            { documents: suite.documents([1, 3]), maxChunksPerCall: 2 },
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
          // A limit of 4 chunks: [3] and [2, 2] — a document is never split across calls.
          const documents = suite.documents([3, 2, 2], 'chunks');
          world.respond(1, suite.success());
          world.respond(2, suite.success());
          const result = await embedContextualized(
            suite.settings(world, { documents, maxChunksPerCall: 4, concurrency: 1 }),
          );
          suite.expectVectors(result, documents);
          assert.deepEqual(
            world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
            [documents.slice(0, 1), documents.slice(1)],
          );
        },
      ),
    );
    const budget = limits.maxTokensPerCall;
    cases.push(
      budget === undefined
        ? skip('ctx-token-budget-split', 'the model declares no contextualized maxTokensPerCall')
        : check('ctx-token-budget-split', 'calls packed past the token budget', async (world) => {
            // Each chunk counts as 40% of the budget: two one-chunk documents fit a call, three do not.
            const counter: TokenCounter = { exact: false, count: () => Math.floor(budget * 0.4) };
            const documents = suite.documents([1, 1, 1], 'budget');
            world.respond(2, suite.success());
            world.respond(1, suite.success());
            const result = await embedContextualized(
              suite.settings(world, { documents, tokenCounter: counter, concurrency: 1 }),
            );
            suite.expectVectors(result, documents);
            assert.deepEqual(
              world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
              [documents.slice(0, 2), documents.slice(2)],
            );
          }),
      wire.signals?.batchTooLarge !== true
        ? skip(
            'ctx-batch-too-large-bisects',
            'the wire profile declares no batch-too-large signal (signals.batchTooLarge)',
          )
        : check(
            'ctx-batch-too-large-bisects',
            '"too many tokens" not recognised, so the call is not bisected',
            async (world) => {
              const documents = suite.documents([1, 2, 1, 2].slice(0, Math.min(4, cap)), 'bisect');
              const half = Math.ceil(documents.length / 2);
              world.respond(
                documents.length,
                suite.errorReply(400, 'too many tokens in this request', { kind: 'batch-too-large' }),
              );
              world.respond(half, suite.success());
              world.respond(documents.length - half, suite.success());
              const result = await embedContextualized(suite.settings(world, { documents, concurrency: 1 }));
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
