/**
 * `@embedkit/replay/node`: reading cassette files, and a replay served through an undici dispatcher
 * (for the undici transport). The matching is the same as `createReplayFetch`'s.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { MockAgent } from 'undici';
import { type Cassette, checkCassette } from './cassette.js';
import { lowerCaseHeaders } from './headers.js';
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

/** The text of a request body as undici hands it to a mock: a string, or bytes. */
function bodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return String(body);
}

/**
 * Serves the interactions of `cassettes` for the origin of `baseURL` through undici's `MockAgent`.
 * Requests are matched by method, path, JSON body and the request headers a recording holds, each
 * interaction once; a request no recording
 * matches, or one sent to another origin, is answered with a 418 that says so (not retried, and listed
 * in `mismatches`), as `createReplayFetch` answers it. No request reaches the network.
 */
export function createReplayDispatcher(baseURL: string, cassettes: readonly Cassette[]): ReplayDispatcher {
  const matcher = createReplayMatcher(cassettes, { baseURL });
  const agent = new MockAgent();
  agent.disableNetConnect();
  agent
    // Every origin, so that a request sent elsewhere is a mismatch the matcher names, not a network error.
    .get(() => true)
    .intercept({ path: () => true, method: () => true })
    .reply((call) => {
      const answer = matcher.answer({
        method: call.method,
        path: call.path,
        body: bodyText(call.body),
        origin: new URL(String(call.origin)).origin,
        headers: lowerCaseHeaders(call.headers),
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

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads one cassette file (UTF-8 text) and checks its format. */
export function readCassette(file: string): Cassette {
  let value: unknown;
  try {
    // Decoded strictly: read leniently, a file in another encoding (Latin-1, or UTF-16 as some editors
    // save it) had every character it could not read replaced with U+FFFD, so its inputs and bodies
    // silently changed and no request matched. The decoder also drops a byte order mark, which JSON
    // readers may ignore.
    value = JSON.parse(UTF8.decode(readFileSync(file)));
  } catch (error) {
    throw Object.assign(new Error(`${file}: ${(error as Error).message}`), { cause: error });
  }
  return checkCassette(value, file);
}

/**
 * The paths of the `.json` files in a directory, sorted by file name: the cassettes it holds. The
 * extension is read in any case, since a cassette saved as `X.JSON` and left out silently only showed as
 * requests no recording matched. Hidden files are left out, as a shell's `*.json` leaves them: macOS
 * writes a `._x.json` of binary metadata beside a file copied to a disk that lacks its attributes, and
 * Emacs a `.#x.json` link to nowhere beside one being edited; neither is a cassette.
 */
export function cassetteFiles(directory: string): string[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    const where = isAbsolute(directory)
      ? directory
      : `${resolve(directory)} (${directory}, resolved from the working directory ${process.cwd()})`;
    throw new Error(`no cassette directory at ${where}`, { cause: error });
  }
  return names
    .filter((file) => !file.startsWith('.') && file.toLowerCase().endsWith('.json'))
    .sort()
    .map((file) => join(directory, file));
}

/** Reads every cassette in a directory (its `cassetteFiles`), sorted by file name. */
export function readCassetteDirectory(directory: string): Cassette[] {
  return cassetteFiles(directory).map(readCassette);
}
