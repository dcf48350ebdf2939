/**
 * Every cassette the repository keeps (each provider's, and the example's) records, for each request, the
 * header that carries the key by name and scheme (`auth`) and, for a request with a body, its content
 * type: without them a replay compares neither, and a provider that sends its key in the wrong header, or
 * its body as another type, still passes its cassettes. The header and scheme are each API's own.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCassette } from '../src/node.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Where each API takes its key: OpenAI, Voyage and Jina as `Authorization: Bearer`, Gemini alone. */
const DIRECTORIES: [string, { header: string; scheme?: string }][] = [
  ['packages/provider-openai/test/cassettes', { header: 'authorization', scheme: 'Bearer' }],
  ['packages/provider-voyage/test/cassettes', { header: 'authorization', scheme: 'Bearer' }],
  ['packages/provider-jina/test/cassettes', { header: 'authorization', scheme: 'Bearer' }],
  ['packages/provider-gemini/test/cassettes', { header: 'x-goog-api-key' }],
  ['examples/semantic-search/cassettes', { header: 'authorization', scheme: 'Bearer' }],
];

/** The `.json` files under `directory`, its subdirectories (`batch/`, `rerank/`) included. */
function jsonFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? jsonFiles(join(directory, entry.name))
      : entry.name.endsWith('.json')
        ? [join(directory, entry.name)]
        : [],
  );
}

describe('the repository cassettes record the key header and the content type', () => {
  for (const [directory, auth] of DIRECTORIES) {
    const files = jsonFiles(join(ROOT, directory));

    it(`${directory} has cassettes (an empty directory would check nothing)`, () => {
      expect(files.length).toBeGreaterThan(0);
    });

    for (const file of files)
      it(`${file.slice(ROOT.length)}: each request records ${auth.header}${auth.scheme === undefined ? '' : ` (${auth.scheme})`}, and a body's content type`, () => {
        const { interactions } = readCassette(file);
        for (const { request } of interactions) {
          expect(request.auth).toEqual(auth);
          expect(request.headers).toEqual(
            request.body === undefined || request.body === null
              ? undefined
              : { 'content-type': 'application/json' },
          );
        }
      });
  }
});
