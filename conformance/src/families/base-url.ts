/**
 * The base URL, for every group: the provider is given another one (another origin with a path prefix,
 * as behind a gateway or a regional endpoint) and must send its call there: the endpoint path after the
 * API's own base path, under the new prefix. Once more with a trailing `/`, which must not double.
 */
import { strict as assert } from 'node:assert';
import { rebasedPath } from '../harness.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import type { JobKit, JobWorld } from '../suite/job-kit.js';

/** The gateway every base-url scenario is given: another origin, and a path prefix of two segments. */
export const GATEWAY_BASE_URL = 'https://gateway.conformance.test/relay/embed-api';

export const baseUrl: Family<JobKit, JobWorld> = {
  name: 'base-url',
  checks:
    'the call sent under the base URL the provider is given (another origin and path prefix), with or without a trailing slash',
  cases: ({ prefix, baseURL, endpointPath }) => {
    const expected = rebasedPath(endpointPath, baseURL, GATEWAY_BASE_URL);
    const variants: [string, string, string][] = [
      [
        `${prefix}base-url`,
        GATEWAY_BASE_URL,
        "settings.baseURL ignored (the API's default used instead), or only its origin or only its path kept",
      ],
      [
        `${prefix}base-url-trailing-slash`,
        `${GATEWAY_BASE_URL}/`,
        'a trailing slash on settings.baseURL kept, so the path has `//` and the gateway answers 404',
      ],
    ];
    return variants.map(([id, gateway, catches]): Case<JobWorld> | SkippedCase =>
      expected === undefined
        ? skip(
            id,
            `the call's path ${endpointPath} is not under the base URL's path (${new URL(baseURL).pathname}), so the suite cannot tell where another base URL puts it`,
          )
        : check(
            id,
            catches,
            async (world) => {
              // The world expects every call under the gateway; a call anywhere else is not answered.
              world.expectCall(world.success);
              await world.run({ maxRetries: 0 });
              const sent = world.interceptor.requests.map((request) => request.path.split('?')[0]);
              assert.deepEqual(sent, [expected.split('?')[0]], `the call goes to ${gateway}`);
            },
            { baseURL: gateway },
          ),
    );
  },
};
