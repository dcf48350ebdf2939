/**
 * More edges of scrubbing, matching and reading cassettes: credential headers a recorder kept as a list
 * of pairs or as undici's flat list of names and values, a recorded request whose body is written as
 * `null`, which files of a directory are cassettes (the extension's case, hidden files), and what
 * `recordedInputs` lists for cassettes of documents. Every key here is an obviously fake test value.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Cassette,
  type CassetteInteraction,
  createReplayFetch,
  createReplayMatcher,
  recordedInputs,
  scrubCassette,
} from '../src/index.js';
import { cassetteFiles, readCassetteDirectory } from '../src/node.js';
import { exchange, OK, R, recording } from './helpers.js';

/** A key no credential pattern knows: only the name of the header that carries it gives it away. */
const PLAIN_KEY = 'plain-key-0001';

describe('scrubCassette: credential headers by name, in every form a recorder keeps them', () => {
  it('drops a credential or account header from a list of [name, value] pairs by its name, whatever its case', () => {
    const response = {
      status: 200,
      headers: [
        ['X-Api-Key', PLAIN_KEY],
        ['x-request-id', 'req-1'],
        ['Set-Cookie', 'session=s-0002'],
        ['openai-organization', 'org-acme'],
        ['link', '</v1?token=t-123456>'],
      ] as unknown as Record<string, string>,
      body: {},
    };
    const scrubbed = scrubCassette(recording([exchange({ input: ['x'] }, response)]), []);
    expect(scrubbed.interactions[0]!.response.headers).toStrictEqual([
      ['x-request-id', 'req-1'],
      ['link', `</v1?token=${R}>`],
    ]);
    expect(JSON.stringify(scrubbed)).not.toContain(PLAIN_KEY);
  });

  it("drops a credential header and its value from undici's flat list of names and values of a request", () => {
    const request = {
      method: 'POST',
      path: '/v1/embeddings',
      headers: [
        'content-type',
        'application/json',
        'x-goog-api-key',
        PLAIN_KEY,
        'Authorization',
        PLAIN_KEY,
        'x-request-id',
        'req-2',
      ],
      body: { input: ['x'] },
    } as unknown as CassetteInteraction['request'];
    const scrubbed = scrubCassette(recording([{ request, response: OK }]), []);
    expect(scrubbed.interactions[0]!.request).toStrictEqual({
      method: 'POST',
      path: '/v1/embeddings',
      headers: ['content-type', 'application/json', 'x-request-id', 'req-2'],
      body: { input: ['x'] },
    });
    expect(JSON.stringify(scrubbed)).not.toContain(PLAIN_KEY);
  });
});

describe('createReplayMatcher: a recorded request whose body is null', () => {
  it('answers a request sent without a body, as a recording without a body does, and one whose body is null', async () => {
    const polls = [
      exchange(null, OK, '/v1/batches/b-1', 'GET'),
      exchange(null, OK, '/v1/batches/b-1', 'GET'),
      exchange(null, OK, '/v1/batches/b-1', 'GET'),
    ];
    const matcher = createReplayMatcher([recording(polls)]);
    expect(matcher.answer({ method: 'GET', path: '/v1/batches/b-1', body: undefined }).status).toBe(200);
    expect(matcher.answer({ method: 'GET', path: '/v1/batches/b-1', body: 'null' }).status).toBe(200);
    const replay = createReplayFetch([recording(polls.slice(2))]);
    expect((await replay.fetch('https://api.acme.test/v1/batches/b-1')).status).toBe(200);
    expect([matcher.mismatches, replay.mismatches, replay.pending()]).toStrictEqual([[], [], []]);
  });
});

describe('cassetteFiles: which files of a directory are cassettes', () => {
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-replay-more-edges-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("lists the .json files whatever the case of the extension, and no hidden file (macOS's ._ copies)", () => {
    const shelf = join(directory, 'shelf');
    mkdirSync(shelf);
    for (const name of ['a.json', 'B.JSON', 'c.Json', '._a.json', '.#a.json', 'notes.txt', 'd.json.txt'])
      writeFileSync(join(shelf, name), '{}');
    expect(cassetteFiles(shelf)).toStrictEqual(
      ['B.JSON', 'a.json', 'c.Json'].map((name) => join(shelf, name)),
    );
  });

  it('reads a directory a Mac copied, with the ._ file of binary metadata beside each cassette', () => {
    const copied = join(directory, 'copied');
    mkdirSync(copied);
    writeFileSync(join(copied, 'pets.json'), JSON.stringify(recording([exchange({ a: 1 }, OK)], 'pets')));
    // An AppleDouble header: its magic number and version, then binary entries.
    writeFileSync(
      join(copied, '._pets.json'),
      Buffer.from([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00, 0xff, 0xfe, 0x00]),
    );
    expect(readCassetteDirectory(copied).map((cassette) => cassette.name)).toStrictEqual(['pets']);
  });
});

describe('recordedInputs: cassettes of documents', () => {
  it('lists the documents of a contextualized cassette and the query and documents of a rerank one', () => {
    const base = recording([exchange({ a: 1 }, OK)], 'pets', ['cat']);
    const contextualized: Cassette = {
      ...base,
      name: 'chunks',
      call: { kind: 'contextualized', modelId: 'ctx-1', documents: [['a1', 'a2'], ['b1']] },
    };
    const rerank: Cassette = {
      ...base,
      name: 'ranked',
      call: { kind: 'rerank', modelId: 'rank-1', query: 'pets', documents: ['cat', 'car'], topN: 1 },
    };
    expect(recordedInputs([base, contextualized, rerank])).toStrictEqual([
      { cassette: 'pets', modelId: 'm', inputs: ['cat'] },
      { cassette: 'chunks', modelId: 'ctx-1', inputs: undefined, documents: [['a1', 'a2'], ['b1']] },
      { cassette: 'ranked', modelId: 'rank-1', inputs: undefined, query: 'pets', documents: ['cat', 'car'] },
    ]);
  });
});
