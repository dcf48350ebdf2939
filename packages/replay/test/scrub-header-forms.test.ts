/**
 * Credential headers in every form a recorder keeps headers (an object of names, a list of pairs,
 * undici's flat list of names and values as text or as raw bytes, and lists of both kinds mixed), each
 * dropped by its name before a cassette is written (a flat list of an odd length, which cannot be
 * paired, refused); and which files of a directory `readCassetteDirectory` reads. Every key here is an
 * obviously fake test value.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CassetteInteraction, scrubCassette } from '../src/index.js';
import { cassetteFiles, readCassetteDirectory } from '../src/node.js';
import { exchange, OK, recording, thrown } from './helpers.js';

/** The credential headers each form carries, each holding a key no credential pattern knows. */
const CREDENTIALS: [string, string][] = [
  ['x-api-key', 'plain-key-0101'],
  ['Authorization', 'plain-key-0102'],
  ['x-goog-api-key', 'plain-key-0103'],
  ['api-key', 'plain-key-0104'],
];

/** What every form keeps: two ordinary headers. */
const KEPT: [string, string][] = [
  ['content-type', 'application/json'],
  ['x-request-id', 'req-7'],
];

/**
 * The request and response headers of one exchange that carried `headers` both ways, scrubbed with no
 * secret given, and the cassette's text as it would be written to its file.
 */
function scrubbedBoth(headers: unknown): { request: unknown; response: unknown; file: string } {
  const request = { method: 'POST', path: '/v1/embeddings', headers, body: { input: ['x'] } };
  const response = { status: 200, headers: headers as Record<string, string>, body: { ok: true } };
  const scrubbed = scrubCassette(recording([{ request, response } as CassetteInteraction]), []);
  const interaction = scrubbed.interactions[0]!;
  return {
    request: (interaction.request as { headers?: unknown }).headers,
    response: interaction.response.headers,
    file: JSON.stringify(scrubbed, null, 2),
  };
}

/** Checks that neither the name nor the key of any header of `CREDENTIALS` is in a cassette's text. */
function expectNoCredential(file: string): void {
  for (const [name, key] of CREDENTIALS) {
    expect(file).not.toContain(key);
    expect(file.toLowerCase()).not.toContain(`"${name.toLowerCase()}"`);
  }
}

const bytes = (text: string) => Buffer.from(text);

describe('scrubCassette: credential headers dropped by their names, in every form a recorder keeps headers', () => {
  it('drops them from an object of header names', () => {
    const { request, response, file } = scrubbedBoth(Object.fromEntries([...CREDENTIALS, ...KEPT]));
    expect(request).toStrictEqual(Object.fromEntries(KEPT));
    expect(response).toStrictEqual(Object.fromEntries(KEPT));
    expectNoCredential(file);
  });

  it('drops them from a list of [name, value] pairs', () => {
    const { request, response, file } = scrubbedBoth([...CREDENTIALS, ...KEPT]);
    expect(request).toStrictEqual(KEPT);
    expect(response).toStrictEqual(KEPT);
    expectNoCredential(file);
  });

  it("drops them from undici's flat list of names and values", () => {
    const { request, response, file } = scrubbedBoth([...CREDENTIALS, ...KEPT].flat());
    expect(request).toStrictEqual(KEPT.flat());
    expect(response).toStrictEqual(KEPT.flat());
    expectNoCredential(file);
  });

  it("drops them from undici's raw flat list of Buffers, and writes the headers it keeps as text", () => {
    const { request, response, file } = scrubbedBoth([...CREDENTIALS, ...KEPT].flat().map(bytes));
    expect(request).toStrictEqual(KEPT.flat());
    expect(response).toStrictEqual(KEPT.flat());
    expectNoCredential(file);
  });

  it('drops them from a list of pairs of Buffers, and writes the headers it keeps as text', () => {
    const { request, response, file } = scrubbedBoth(
      [...CREDENTIALS, ...KEPT].map(([name, value]) => [bytes(name), bytes(value)]),
    );
    expect(request).toStrictEqual(KEPT);
    expect(response).toStrictEqual(KEPT);
    expectNoCredential(file);
  });

  it('refuses a flat list of an odd length, whose last name has no value, as it cannot be paired', () => {
    const error = thrown(() => scrubbedBoth([...[...KEPT, ...CREDENTIALS].flat(), 'x-api-key'])) as Error;
    expect(error.message).toBe(
      'scrubCassette: the headers at interactions[0].request.headers are a flat list of names and values with a value missing (item 12 has none after it), so names and values cannot be paired; the recording is refused rather than written with values under the wrong names.',
    );
  });

  it('drops them from a list of pairs and flat names and values mixed', () => {
    const [apiKey, authorization, googKey, azureKey] = CREDENTIALS as [string, string][];
    const { request, response, file } = scrubbedBoth([
      apiKey,
      ...authorization!,
      KEPT[0],
      ...googKey!,
      ...KEPT[1]!,
      azureKey,
    ]);
    expect(request).toStrictEqual([KEPT[0], ...KEPT[1]!]);
    expect(response).toStrictEqual([KEPT[0], ...KEPT[1]!]);
    expectNoCredential(file);
  });

  it('keeps a header whose value names a credential header (vary: authorization) in a flat list', () => {
    const { response } = scrubbedBoth([
      'vary',
      'Authorization',
      'x-api-key',
      'plain-key-0101',
      'x-request-id',
      'req-8',
    ]);
    expect(response).toStrictEqual(['vary', 'Authorization', 'x-request-id', 'req-8']);
  });
});

describe('readCassetteDirectory: which files of a directory it reads', () => {
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-replay-header-forms-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const cassette = (name: string) => JSON.stringify(recording([exchange({ input: [name] }, OK)], name));

  it('reads the files of the directory itself, not those of its subdirectories', () => {
    const shelf = join(directory, 'shelf');
    mkdirSync(join(shelf, 'rerank'), { recursive: true });
    mkdirSync(join(shelf, '.old'));
    writeFileSync(join(shelf, 'top.json'), cassette('top'));
    writeFileSync(join(shelf, 'rerank', 'nested.json'), cassette('nested'));
    writeFileSync(join(shelf, '.old', 'hidden.json'), cassette('hidden'));
    expect(readCassetteDirectory(shelf).map((read) => read.name)).toStrictEqual(['top']);
  });

  it('refuses an entry named like a cassette that is a directory, naming it', () => {
    const shelf = join(directory, 'with-a-directory');
    mkdirSync(join(shelf, 'old.json'), { recursive: true });
    writeFileSync(join(shelf, 'a.json'), cassette('a'));
    expect(cassetteFiles(shelf)).toStrictEqual([join(shelf, 'a.json'), join(shelf, 'old.json')]);
    const error = thrown(() => readCassetteDirectory(shelf)) as Error;
    expect([error.message, (error.cause as { code?: string }).code]).toStrictEqual([
      `${join(shelf, 'old.json')}: EISDIR: illegal operation on a directory, read`,
      'EISDIR',
    ]);
  });

  it('reads a symbolic link named like a cassette as the file it points to', () => {
    const shelf = join(directory, 'linked');
    mkdirSync(join(shelf, 'store'), { recursive: true });
    writeFileSync(join(shelf, 'store', 'kept.txt'), cassette('linked'));
    symlinkSync(join(shelf, 'store', 'kept.txt'), join(shelf, 'pets.json'));
    expect(readCassetteDirectory(shelf).map((read) => read.name)).toStrictEqual(['linked']);
  });
});
