/**
 * Rerank limits held against the wire: the declared document limit within the API's, a call at the
 * limit, one over (each call asking its own best topN), bisection on the API's "too large" answer, and
 * a listwise model's job, whose scores do not compare across calls, refused rather than split. A call at
 * the limit holds as many documents as the declared document and token limits let one call take.
 */
import { strict as assert } from 'node:assert';
import { rerank } from '@embedkit/core';
import { rejection } from '../../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../../suite/family.js';
import { QUERY, type RerankingSuite, type RerankingWorld } from './suite.js';

export const rerankingLimits: Family<RerankingSuite, RerankingWorld> = {
  name: 'rerank-limits',
  checks:
    'the declared document limit within the wire limit; at the limit one call, one over two; bisection; a listwise job not split',
  splits: true,
  cases: (suite) => {
    const { wire } = suite;
    const cases: (Case<RerankingWorld> | SkippedCase)[] = [
      wire.maxDocumentsPerRequest === undefined
        ? skip('rerank-declared-limits', 'the wire profile states no document limit (maxDocumentsPerRequest)')
        : check(
            'rerank-declared-limits',
            'capabilities that claim more documents per call than the API takes',
            async (world) => {
              assert.ok(
                world.model.capabilities.maxDocumentsPerCall <= wire.maxDocumentsPerRequest!,
                `maxDocumentsPerCall ${world.model.capabilities.maxDocumentsPerCall} is above the API's ${wire.maxDocumentsPerRequest}`,
              );
            },
          ),
      check(
        'rerank-split-at-max-documents',
        'a call at the declared document limit (or token budget, when reached first) refused by the API',
        async (world) => {
          const documents = suite.oneCall('at');
          world.respond(suite.success());
          const result = await rerank(suite.settings(world, { documents, topN: 3 }));
          assert.equal(world.interceptor.requests.length, 1, `${documents.length} documents fit one call`);
          assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents, 3));
        },
      ),
      check(
        'rerank-split-above-max-documents',
        'one document over the limit not split off, or topN not asked per call',
        async (world) => {
          const cap = suite.oneCall('above').length;
          const documents = suite.documents(cap + 1, 'above');
          const calls = suite.respondAll(world, documents, suite.success());
          assert.deepEqual(calls, [cap, 1], 'the plan: a full call and one document');
          const result = await rerank(suite.settings(world, { documents, topN: 3 }));
          const sizes = world.interceptor.requests
            .map((request) => wire.documentsOf(request.body).length)
            .sort((a, b) => b - a);
          assert.deepEqual(sizes, [cap, 1]);
          assert.deepEqual(
            world.interceptor.requests.map((request) => wire.topNOf(request.body)).sort(),
            [1, Math.min(3, cap)].sort(),
            'each call asks for its own best topN',
          );
          assert.deepEqual(
            result.results,
            suite.expectedRanking(QUERY, documents, 3),
            'the best 3 over every call',
          );
          assert.equal(result.responses.length, 2);
        },
      ),
    ];
    cases.push(
      !suite.listwise
        ? skip(
            'rerank-listwise-split-refused',
            'the model’s scores compare across calls (pointwise): neither its capabilities nor the wire profile (listwise) say otherwise',
          )
        : check(
            'rerank-listwise-split-refused',
            'a listwise model’s job split into calls and merged by scores that do not compare',
            async (world) => {
              // What the API is, from the wire profile, against what the model declares: only the
              // declaration keeps rerank from merging scores that do not compare.
              const declared = world.model.capabilities.scoresCompareAcrossCalls;
              assert.ok(
                declared === false,
                `the API is listwise (the wire profile's listwise: true), but the model's capabilities ${declared === undefined ? 'leave out scoresCompareAcrossCalls' : `declare scoresCompareAcrossCalls: ${String(declared)}`}: rerank then splits its jobs and merges them by scores that do not compare across calls. Declare scoresCompareAcrossCalls: false.`,
              );
              const documents = suite.documents(suite.oneCall('listwise').length + 1, 'listwise');
              const error = await rejection(
                rerank(suite.settings(world, { documents, mergeScoresAcrossCalls: false })),
              );
              assert.equal(error.name, 'InvalidArgumentError', String(error.message));
              assert.match(error.message, /is listwise/);
              assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
            },
          ),
    );
    cases.push(
      wire.signals?.batchTooLarge !== true
        ? skip(
            'rerank-batch-too-large-bisects',
            'the wire profile declares no batch-too-large signal (signals.batchTooLarge)',
          )
        : suite.cap < 2
          ? skip('rerank-batch-too-large-bisects', 'the model takes one document per call')
          : check(
              'rerank-batch-too-large-bisects',
              '"too many tokens" not recognised, so the call is not bisected',
              async (world) => {
                const documents = suite.oneCall('bisect').slice(0, 4);
                const half = Math.ceil(documents.length / 2);
                world.respond(
                  suite.errorReply(400, 'too many tokens in this request', { kind: 'batch-too-large' }),
                );
                world.respond(suite.success());
                world.respond(suite.success());
                const result = await rerank(suite.settings(world, { documents, concurrency: 1 }));
                assert.deepEqual(
                  world.interceptor.requests.map((request) => wire.documentsOf(request.body)),
                  [documents, documents.slice(0, half), documents.slice(half)],
                );
                assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents));
              },
            ),
    );
    return cases;
  },
};
