/** Rerank basics: the ranking however the API orders it, topN, bad input refused, broken answers refused, usage and its absence. */
import { strict as assert } from 'node:assert';
import { type RerankSettings, rerank } from '@embedkit/core';
import {
  type AnyError,
  CALL_HEADERS,
  expectCallHeadersNotKept,
  expectCustomHeaders,
  expectKeyInAuthHeader,
  expectRequestIdsKept,
  PROVIDER_HEADERS,
  rejection,
  untidied,
} from '../../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../../suite/family.js';
import {
  QUERY,
  RERANK_REQUEST_ID,
  type RerankingAnswer,
  type RerankingSuite,
  type RerankingWorld,
} from './suite.js';

/** Refused with an InvalidArgumentError naming `argument`, before any request. */
async function nothingSent(
  suite: RerankingSuite,
  world: RerankingWorld,
  extra: Partial<RerankSettings>,
  argument: string,
) {
  const error = await rejection(rerank(suite.settings(world, extra)));
  assert.equal(error.name, 'InvalidArgumentError', String(error.message));
  assert.equal(error.code, 'invalid_argument');
  assert.equal(error.argument, argument);
  assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
}

export const rerankingBasics: Family<RerankingSuite, RerankingWorld> = {
  name: 'rerank-basics',
  checks:
    'the ranking sorted by score over every call, topN, custom headers, bad input refused, broken answers refused, usage, an answer without usage',
  splits: true,
  cases: (suite) => {
    const { wire } = suite;
    /**
     * Up to `count` documents in one call (as many as the declared limits let it take), answered with
     * `answer`; the call must fail with an InvalidResponseError.
     */
    const broken = (id: string, catches: string, answer: RerankingAnswer, count = 2): Case<RerankingWorld> =>
      check(id, catches, async (world) => {
        world.respond(suite.success(answer));
        const documents = suite.oneCall('broken').slice(0, count);
        const outcome = await rerank(suite.settings(world, { documents, concurrency: 1 })).then(
          (result) => ({ result }),
          (error: AnyError) => ({ error }),
        );
        if ('result' in outcome)
          assert.fail(
            `the call returned a ranking (${JSON.stringify(outcome.result.results.map(({ index, relevanceScore }) => ({ index, relevanceScore })))}) from a broken answer: the provider must refuse such an answer with an InvalidResponseError, not pass it on or repair it`,
          );
        const { error } = outcome;
        assert.equal(error.name, 'InvalidResponseError', String(error.message));
        assert.equal(world.interceptor.requests.length, 1, 'not retried');
      });
    const cases: (Case<RerankingWorld> | SkippedCase)[] = [
      check(
        'rerank-sorted',
        'documents or query altered, the key in the wrong header, usage or the request id lost',
        async (world) => {
          const documents = suite.documents(5);
          suite.respondAll(world, documents, suite.success());
          const result = await rerank(suite.settings(world, { documents }));
          assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents));
          const requests = world.interceptor.requests;
          const auth = wire.authHeader(world.apiKey);
          for (const request of requests) {
            expectKeyInAuthHeader(request.headers, auth);
            assert.equal(wire.queryOf(request.body), QUERY);
            assert.equal(wire.topNOf(request.body), undefined, 'no topN sent when none was asked');
          }
          assert.deepEqual(
            requests.flatMap((request) => wire.documentsOf(request.body)).sort(),
            [...documents].sort(),
          );
          if (wire.reportsUsage)
            assert.deepEqual(result.usage, { inputTokens: suite.usageTokens(QUERY, documents) });
          else assert.equal(result.usage, undefined);
          assert.equal(result.responses.length, requests.length);
          expectRequestIdsKept(result.responses, wire.requestIdHeader, RERANK_REQUEST_ID);
        },
      ),
      check(
        'rerank-text-as-given',
        'the query or documents trimmed, or their newlines, tabs or CRLF replaced, before they are sent',
        async (world) => {
          const query = untidied(QUERY, 1);
          const documents = suite
            .documents(3, 'as given')
            .map((document, index) => untidied(document, index));
          suite.respondAll(world, documents, suite.success(), { query });
          const result = await rerank(suite.settings(world, { query, documents }));
          for (const request of world.interceptor.requests)
            assert.equal(wire.queryOf(request.body), query, 'the query is sent byte for byte');
          // Sorted: a split job's calls may arrive in any order.
          assert.deepEqual(
            world.interceptor.requests.flatMap((request) => wire.documentsOf(request.body)).sort(),
            [...documents].sort(),
            'the documents are sent byte for byte',
          );
          assert.deepEqual(result.results, suite.expectedRanking(query, documents));
        },
      ),
      check('rerank-unsorted-answer', 'the API order trusted as the ranking', async (world) => {
        const documents = suite.documents(6, 'unsorted');
        suite.respondAll(world, documents, suite.success({ unsorted: true }));
        const result = await rerank(suite.settings(world, { documents }));
        assert.deepEqual(
          result.results,
          suite.expectedRanking(QUERY, documents),
          'the ranking is not the one the scores of the answer give: the API listed its results out of score order, and the provider must keep each document with its own score (the engine sorts them), not read the order of the list as the ranking',
        );
      }),
      check(
        'rerank-zero-score',
        'a score of 0 read as no score (a falsy test), so the document is dropped or left unscored',
        async (world) => {
          // Two documents, in one call: the API scores the first exactly 0, as a reranker may.
          const documents = suite.oneCall('zero').slice(0, 2);
          world.respond(
            suite.success({
              mutate: (results) => {
                for (const result of results) if (result.index === 0) result.relevanceScore = 0;
                results.sort((a, b) => b.relevanceScore - a.relevanceScore);
              },
            }),
          );
          const result = await rerank(suite.settings(world, { documents, concurrency: 1 }));
          const expected = suite
            .expectedRanking(QUERY, documents)
            .map((ranked) => (ranked.index === 0 ? { ...ranked, relevanceScore: 0 } : ranked))
            .sort((a, b) => b.relevanceScore - a.relevanceScore);
          assert.deepEqual(
            result.results,
            expected,
            'the document the API scored 0 is ranked, last, with its score of 0: a score of 0 is a score',
          );
        },
      ),
      check('rerank-top-n', 'topN not sent, or sent larger than the call', async (world) => {
        const documents = suite.documents(6, 'top');
        suite.respondAll(world, documents, suite.success());
        const result = await rerank(suite.settings(world, { documents, topN: 2 }));
        for (const request of world.interceptor.requests)
          assert.equal(
            wire.topNOf(request.body),
            Math.min(2, wire.documentsOf(request.body).length),
            'topN is sent',
          );
        assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents, 2));
      }),
      check(
        'rerank-custom-headers',
        "the provider's `headers` setting or a call's own headers left off rerank calls, or a call's headers kept for the calls after it",
        async (world) => {
          const documents = suite.documents(1, 'headers');
          world.respond(suite.success(), { times: 2 });
          const result = await rerank({ ...suite.settings(world, { documents }), headers: CALL_HEADERS });
          assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents));
          expectCustomHeaders(world.interceptor.requests[0]!.headers, 'the rerank request');
          await rerank(suite.settings(world, { documents: suite.documents(1, 'no headers') }));
          expectCallHeadersNotKept(world.interceptor.requests[1]!.headers, 'the second rerank request');
        },
        { headers: PROVIDER_HEADERS },
      ),
      check('rerank-no-documents', 'a call made for no documents', async (world) => {
        const result = await rerank(suite.settings(world, { documents: [] }));
        assert.deepEqual(result.results, []);
        assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
      }),
      check('rerank-empty-query', 'an empty query sent', (world) =>
        nothingSent(suite, world, { query: '', documents: ['a'] }, 'query'),
      ),
      check('rerank-empty-document', 'an empty document sent', (world) =>
        nothingSent(suite, world, { documents: ['a', ''] }, 'documents[1]'),
      ),
      check('rerank-top-n-invalid', 'a topN of 0 or 1.5 sent', async (world) => {
        await nothingSent(suite, world, { documents: ['a'], topN: 0 }, 'topN');
        await nothingSent(suite, world, { documents: ['a'], topN: 1.5 }, 'topN');
      }),
      broken('rerank-out-of-range-index', 'a score for a document the call did not have accepted', {
        mutate: (results) => {
          results[0]!.index = 99;
        },
      }),
      suite.cap < 2
        ? skip('rerank-duplicate-index', 'the model takes one document per call')
        : broken('rerank-duplicate-index', 'a document scored twice (and one not at all) accepted', {
            mutate: (results) => {
              results[1]!.index = results[0]!.index;
            },
          }),
      broken('rerank-missing-score', 'a document left unscored accepted', {
        mutate: (results) => void results.pop(),
      }),
      broken('rerank-nan-score', 'a non-finite score accepted', {
        mutate: (results) => {
          results[0]!.relevanceScore = Number.NaN;
        },
      }),
    ];
    if (wire.reportsUsage) {
      cases.push(
        suite.cap >= 2
          ? check('rerank-usage-summed', 'usage of one call reported for the job', async (world) => {
              const documents = suite.documents(3, 'usage');
              const extra = { maxDocumentsPerCall: 2, concurrency: 1 };
              suite.respondAll(world, documents, suite.success(), extra);
              const result = await rerank(suite.settings(world, { documents, ...extra }));
              assert.deepEqual(result.usage, { inputTokens: suite.usageTokens(QUERY, documents) });
              assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents));
            })
          : skip('rerank-usage-summed', 'the model takes one document per call'),
        check(
          'rerank-usage-missing',
          'an answer without usage reported as 0 tokens (a count the API never gave) instead of no usage',
          async (world) => {
            const documents = suite.documents(1, 'usage none');
            world.respond(suite.success({ usage: false }));
            // No retry: a wire that cannot write an answer without usage is named, not answered again.
            const result = await rerank(suite.settings(world, { documents, maxRetries: 0 }));
            assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents));
            assert.equal(
              result.usage,
              undefined,
              `usage is absent when the answer carries none, not ${JSON.stringify(result.usage)}`,
            );
            assert.equal('usage' in result, false, 'no usage key at all');
          },
        ),
      );
    }
    return cases;
  },
};
