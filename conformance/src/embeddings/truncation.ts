/**
 * Truncation on the wire: by default nothing is ever cut (a provider must turn off an API's own
 * truncation), and `truncate: true` is sent on every call, or, where the API cannot cut, said in a warning.
 */
import { strict as assert } from 'node:assert';
import type { Harness } from '../harness.js';
import { check, type Family } from '../suite/family.js';
import { type EmbeddingSuite, splitJob } from './suite.js';

async function truncatedJob(suite: EmbeddingSuite, world: Harness, truncate: boolean | undefined) {
  const result = await splitJob(
    suite,
    world,
    `truncate ${truncate}`,
    truncate === undefined ? {} : { truncate },
  );
  return { result, cuts: world.interceptor.requests.map((request) => suite.wire.truncateOf!(request.body)) };
}

export const truncation: Family<EmbeddingSuite, Harness> = {
  name: 'truncation',
  checks:
    'no cutting unless asked (an API default turned off) on every call; truncate: true sent, or warned about',
  skip: ({ wire }) =>
    wire.truncateOf === undefined
      ? 'the wire profile cannot read whether a request lets the API cut (truncateOf)'
      : undefined,
  cases: (suite) => [
    check(
      'truncate-off',
      "the API's own truncation left on, so long inputs are cut silently",
      async (world) => {
        const { cuts } = await truncatedJob(suite, world, undefined);
        assert.deepEqual(
          cuts,
          cuts.map(() => false),
          'no call lets the API cut inputs',
        );
      },
    ),
    check('truncate-on', 'truncate: true neither sent nor warned about (on every job)', async (world) => {
      const { result, cuts } = await truncatedJob(suite, world, true);
      if (cuts.every((cut) => cut)) return;
      assert.deepEqual(
        cuts,
        cuts.map(() => false),
        `truncate: true must reach every call or none: ${cuts.join(', ')}`,
      );
      assert.ok(
        result.warnings.some((warning) => warning.setting === 'truncate'),
        'the API cannot cut: a warning names truncate',
      );
      // A provider that remembers it has warned would leave every later job of the model unwarned.
      const again = await truncatedJob(suite, world, true);
      assert.ok(
        again.result.warnings.some((warning) => warning.setting === 'truncate'),
        'the second job on the same model is warned too',
      );
    }),
  ],
};
