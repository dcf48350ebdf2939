/**
 * Cassette replay for programs, not tests: an undici dispatcher that answers from recorded exchanges.
 * This entry point (`@embedkit/conformance/replay`) loads neither vitest nor nock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockAgent } from 'undici';
import type { Cassette } from './types.js';

/** A dispatcher that serves `cassettes` for `baseURL` and refuses every other request. */
export interface ReplayDispatcher {
  dispatcher: MockAgent;
  /** Interactions no request used. */
  pending(): string[];
  close(): Promise<void>;
}

/**
 * Serves the interactions of `cassettes` in order, each once. Requests are matched by method and
 * path; a request body that differs from the recording is answered with a 418 that says so.
 */
export function createReplayDispatcher(baseURL: string, cassettes: readonly Cassette[]): ReplayDispatcher {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get(new URL(baseURL).origin);
  for (const cassette of cassettes) {
    for (const interaction of cassette.interactions) {
      const expected = JSON.stringify(interaction.request.body);
      pool.intercept({ path: interaction.request.path, method: interaction.request.method }).reply((call) => {
        const body = typeof call.body === 'string' ? call.body : '';
        let same = false;
        try {
          same = JSON.stringify(JSON.parse(body)) === expected;
        } catch {
          same = false;
        }
        if (!same) {
          return {
            statusCode: 418,
            data: JSON.stringify({
              error: { message: `the request differs from the recording in cassette "${cassette.name}"` },
            }),
            responseOptions: { headers: { 'content-type': 'application/json' } },
          };
        }
        const { response } = interaction;
        const data = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
        return {
          statusCode: response.status,
          data,
          responseOptions: { headers: { 'content-type': 'application/json', ...response.headers } },
        };
      });
    }
  }
  return {
    dispatcher: agent,
    pending: () => agent.pendingInterceptors().map((item) => `${item.method} ${item.origin}${item.path}`),
    close: () => agent.close(),
  };
}

/** Reads one cassette file. */
export function readCassette(file: string): Cassette {
  return JSON.parse(readFileSync(file, 'utf8')) as Cassette;
}

/** Reads every `*.json` cassette in a directory, sorted by name. */
export function readCassetteDirectory(directory: string): Cassette[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => readCassette(join(directory, file)));
}

export type { Cassette } from './types.js';
