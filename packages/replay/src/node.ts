/**
 * `@embedkit/replay/node`: reading cassette files, and a replay served through an undici dispatcher
 * (for the undici transport). The matching is the same as `createReplayFetch`'s.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockAgent } from 'undici';
import { type Cassette, checkCassette } from './cassette.js';
import { createReplayMatcher, type ReplayMismatch } from './replay.js';

/** A dispatcher that serves cassettes for one origin and refuses every other request. */
export interface ReplayDispatcher {
  dispatcher: MockAgent;
  /** Interactions no request used. */
  pending(): string[];
  /** Requests no recording matched, in order. */
  readonly mismatches: ReplayMismatch[];
  close(): Promise<void>;
}

/**
 * Serves the interactions of `cassettes` for the origin of `baseURL` through undici's `MockAgent`, with
 * every other connection refused. Requests are matched by method, path and JSON body, each
 * interaction once; a request no recording matches is answered with a 418 that says so.
 */
export function createReplayDispatcher(baseURL: string, cassettes: readonly Cassette[]): ReplayDispatcher {
  const matcher = createReplayMatcher(cassettes);
  const agent = new MockAgent();
  agent.disableNetConnect();
  agent
    .get(new URL(baseURL).origin)
    .intercept({ path: () => true, method: () => true })
    .reply((call) => {
      const answer = matcher.answer({
        method: call.method,
        path: call.path,
        body: typeof call.body === 'string' ? call.body : undefined,
      });
      return { statusCode: answer.status, data: answer.body, responseOptions: { headers: answer.headers } };
    })
    .persist();
  return {
    dispatcher: agent,
    pending: matcher.pending,
    mismatches: matcher.mismatches,
    close: () => agent.close(),
  };
}

/** Reads one cassette file and checks its format. */
export function readCassette(file: string): Cassette {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw Object.assign(new Error(`${file}: ${(error as Error).message}`), { cause: error });
  }
  return checkCassette(value, file);
}

/** The paths of the `*.json` files in a directory, sorted by file name: the cassettes it holds. */
export function cassetteFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => join(directory, file));
}

/** Reads every `*.json` cassette in a directory, sorted by file name. */
export function readCassetteDirectory(directory: string): Cassette[] {
  return cassetteFiles(directory).map(readCassette);
}
