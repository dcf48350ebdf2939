/**
 * The base URL, for every group: the provider is given another one (another origin with a path prefix,
 * as behind a gateway or a regional endpoint) and must send its calls there: each path after the API's
 * own base path, under the new prefix. Once more with a trailing `/`, which must not double.
 */
import { rebasedPath } from '../harness.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import type { JobKit, JobWorld } from '../suite/job-kit.js';

/** The gateway every base-url scenario is given: another origin, and a path prefix of two segments. */
const GATEWAY_BASE_URL = 'https://gateway.conformance.test/relay/embed-api';

/** A base URL a base-url scenario gives the provider in place of the API's, and the bug it catches. */
interface Gateway {
  id: string;
  baseURL: string;
  catches: string;
}

/** The base URLs of every group's base-url scenarios (their ids after the group's prefix). */
const GATEWAYS: readonly Gateway[] = [
  {
    id: 'base-url',
    baseURL: GATEWAY_BASE_URL,
    catches:
      "settings.baseURL ignored (the API's default used instead), or only its origin or only its path kept",
  },
  {
    id: 'base-url-trailing-slash',
    baseURL: `${GATEWAY_BASE_URL}/`,
    catches: 'a trailing slash on settings.baseURL kept, so a path has `//` and the gateway answers 404',
  },
];

/**
 * The base-url cases of a group whose calls go to `paths` under `apiBaseURL` (the API's own base URL):
 * one per gateway, each running `run` in a world that answers those calls only under the gateway. They
 * are skipped when a path is not under the API's base path, as another base URL's place for it is unknown.
 *
 * Where the calls went needs no assertion in `run`: the world answers each expected call only at its URL
 * under the gateway (its origin, its path prefix, one `/` before the path), so a call sent anywhere else
 * fails the scenario as a request not expected, and a call never sent fails it as one still pending.
 */
export function baseUrlCases<W>(
  prefix: string,
  apiBaseURL: string,
  paths: readonly string[],
  run: (world: W) => Promise<void>,
): (Case<W> | SkippedCase)[] {
  const outside = paths.find((path) => rebasedPath(path, apiBaseURL, GATEWAY_BASE_URL) === undefined);
  return GATEWAYS.map(({ id, baseURL, catches }) =>
    outside === undefined
      ? check(`${prefix}${id}`, catches, run, { baseURL })
      : skip(
          `${prefix}${id}`,
          `the path ${outside} is not under the base URL's path (${new URL(apiBaseURL).pathname}), so the suite cannot tell where another base URL puts it`,
        ),
  );
}

export const baseUrl: Family<JobKit, JobWorld> = {
  name: 'base-url',
  checks:
    'the call sent under the base URL the provider is given (another origin and path prefix), with or without a trailing slash',
  cases: ({ prefix, baseURL, endpointPath }) =>
    baseUrlCases<JobWorld>(prefix, baseURL, [endpointPath], async (world) => {
      // Fails unless the call reaches the gateway's URL for it (see `baseUrlCases`) and its answer is read.
      world.expectCall(world.success);
      await world.run({ maxRetries: 0 });
    }),
};
