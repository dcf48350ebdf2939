/**
 * Rerank flags and options on every call of a split job: nothing cut unless asked (`truncate: true` sent
 * or warned about), the documents never asked back (the engine has them), every option of the provider's
 * schema sent, an unknown option refused.
 */
import { strict as assert } from 'node:assert';
import { type RerankSettings, rerank } from '@embedkit/core';
import { rejection } from '../../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../../suite/family.js';
import { QUERY, type RerankingSuite, type RerankingWorld } from './suite.js';

/** Five documents over calls of at most two; resolves with the result and the requests. */
async function splitJob(suite: RerankingSuite, world: RerankingWorld, extra: Partial<RerankSettings> = {}) {
  const documents = suite.documents(5, 'flags');
  const split = { maxDocumentsPerCall: Math.min(2, suite.cap), concurrency: 1, ...extra };
  suite.respondAll(world, documents, suite.success(), split);
  const result = await rerank(suite.settings(world, { documents, ...split }));
  assert.deepEqual(result.results, suite.expectedRanking(QUERY, documents));
  return { result, requests: world.interceptor.requests };
}

export const rerankingFlags: Family<RerankingSuite, RerankingWorld> = {
  name: 'rerank-flags',
  checks: "truncation off unless asked, documents never asked back, the provider's options on every call",
  cases: (suite) => {
    const { wire } = suite;
    const cases: (Case<RerankingWorld> | SkippedCase)[] = [];
    if (wire.truncateOf === undefined) {
      const reason = 'the wire profile cannot read whether a request lets the API cut (truncateOf)';
      cases.push(skip('rerank-truncate-off', reason), skip('rerank-truncate-on', reason));
    } else {
      const truncateOf = wire.truncateOf;
      cases.push(
        check(
          'rerank-truncate-off',
          "the API's own truncation left on, so long documents are cut silently",
          async (world) => {
            const { requests } = await splitJob(suite, world);
            for (const [index, request] of requests.entries())
              assert.equal(truncateOf(request.body), false, `call ${index} lets the API cut`);
          },
        ),
        check('rerank-truncate-on', 'truncate: true neither sent nor warned about', async (world) => {
          const { result, requests } = await splitJob(suite, world, { truncate: true });
          const cuts = requests.map((request) => truncateOf(request.body));
          if (cuts.every((cut) => cut)) return;
          assert.ok(
            cuts.every((cut) => !cut),
            `truncate: true must reach every call or none: ${cuts.join(', ')}`,
          );
          assert.ok(
            result.warnings.some((warning) => warning.setting === 'truncate'),
            'a warning names truncate',
          );
        }),
      );
    }
    cases.push(
      wire.returnsDocumentsOf === undefined
        ? skip(
            'rerank-return-documents-off',
            'the wire profile cannot read whether the API sends documents back (returnsDocumentsOf)',
          )
        : check(
            'rerank-return-documents-off',
            'the documents asked back (the API default), doubling every answer',
            async (world) => {
              const { requests } = await splitJob(suite, world);
              for (const [index, request] of requests.entries())
                assert.equal(
                  wire.returnsDocumentsOf!(request.body),
                  false,
                  `call ${index} asks for the documents back`,
                );
            },
          ),
    );
    for (const example of wire.options ?? []) {
      cases.push(
        check(
          `rerank-option-${example.name}`,
          `option ${example.name} dropped, or sent on the first call only`,
          async (world) => {
            const { requests } = await splitJob(suite, world, {
              providerOptions: { [world.model.provider]: example.options },
            });
            if (example.onWire !== undefined)
              for (const [index, request] of requests.entries())
                assert.deepEqual(
                  example.onWire(request.body),
                  example.expected,
                  `call ${index} carries ${example.name}`,
                );
          },
        ),
      );
    }
    cases.push(
      check(
        'rerank-option-unknown-refused',
        'a lenient option schema that ignores a misspelt option',
        async (world) => {
          const error = await rejection(
            rerank(
              suite.settings(world, {
                documents: ['a'],
                providerOptions: { [world.model.provider]: { conformanceNoSuchOption: true } },
              }),
            ),
          );
          assert.equal(error.name, 'InvalidArgumentError', String(error.message));
          assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
        },
      ),
    );
    return cases;
  },
};
