import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_KEY,
  type FakeServer,
  indexArgs,
  readIndexFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
} from './helpers.js';

const DOCS = [
  { id: 'cats', text: 'Cats purr when they are content and sleep most of the day' },
  { id: 'dogs', text: 'Dogs bark at strangers and love long walks' },
  { id: 'purr', text: 'Why do cats purr? Purring cats are usually calm cats' },
  { id: 'rust', text: 'Rust has a borrow checker and zero cost abstractions' },
  { id: 'fish', text: 'Fish swim in schools and some cats watch fish tanks' },
  { id: 'soup', text: 'Tomato soup with basil is a quick dinner' },
];
const DIMENSIONS = 16;

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let index = 0; index < a.length; index++) {
    dot += a[index]! * b[index]!;
    na += a[index]! * a[index]!;
    nb += b[index]! * b[index]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The ranking worked out here from the fake server's vectors, to compare with the command's. */
function expectedRanking(query: string, top: number): { id: string; score: number }[] {
  const q = vectorFor(query, DIMENSIONS);
  return DOCS.map((doc, index) => ({ id: doc.id, index, score: cosine(q, vectorFor(doc.text, DIMENSIONS)) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, top)
    .map(({ id, score }) => ({ id, score }));
}

describe('index and search', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  const bodies: Record<string, unknown>[] = [];
  const input = join(directory.path, 'docs.jsonl');
  const index = join(directory.path, 'docs.ekx');
  /** `embedkit index` of the test documents into `out` with the test model and length. */
  const indexDocsArgs = (out: string) => [
    'index',
    input,
    '--model',
    'openai:text-embedding-3-small',
    '--dimensions',
    String(DIMENSIONS),
    '--out',
    out,
  ];

  beforeAll(async () => {
    writeFileSync(input, DOCS.map((doc, position) => JSON.stringify({ ...doc, position })).join('\n'));
    server = await startFakeOpenAI({
      intercept: ({ body }) => {
        bodies.push(body);
        return undefined;
      },
    });
    const result = await runCli([...indexDocsArgs(index), '--base-url', server.baseURL, '--batch-size', '4']);
    expect(result.stderr).toBe(
      `embedkit: indexed 6 inputs (16 dimensions, openai:text-embedding-3-small) into ${index}\n`,
    );
    expect(result.code).toBe(0);
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  it('stores the model, provider, dimensions and input types in the index header', () => {
    const { header } = readIndexFile(index);
    expect(header).toMatchObject({
      format: 'embedkit-index',
      version: 1,
      provider: 'openai',
      model: 'text-embedding-3-small',
      dimensions: 16,
      requestedDimensions: 16,
      inputType: null,
      queryInputType: null,
      count: 6,
      normalized: true,
      source: input,
      baseURL: server.baseURL,
    });
    // Every document was sent once, in order, with the dimensions asked for.
    expect(bodies.flatMap((body) => body.input as string[])).toEqual(DOCS.map((doc) => doc.text));
    expect(new Set(bodies.map((body) => body.dimensions))).toEqual(new Set([16]));
  });

  it('ranks documents by cosine similarity to the query, best first', async () => {
    bodies.length = 0;
    const query = 'do cats purr';
    const result = await runCli(['search', index, query, '--top', '3', '--base-url', server.baseURL]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const expected = expectedRanking(query, 3);
    // The fake vectors make sense: the two cat texts lead, and no two scores tie.
    expect(expected.slice(0, 2).map((hit) => hit.id)).toEqual(['purr', 'cats']);
    expect(new Set(expected.map((hit) => hit.score.toFixed(4))).size).toBe(3);
    const text = (id: string) => DOCS.find((doc) => doc.id === id)!.text;
    expect(result.stdout).toBe(
      expected
        .map((hit, rank) => `${rank + 1}\t${hit.score.toFixed(4)}\t"${hit.id}"\t${text(hit.id)}\n`)
        .join(''),
    );
    // The query was embedded with the index's model and dimensions.
    expect(bodies).toEqual([
      { model: 'text-embedding-3-small', input: [query], encoding_format: 'base64', dimensions: 16 },
    ]);
  });

  /** What search says when the index names `stored` and this run would go elsewhere. */
  const otherServer = (path: string, stored: string, here: string) =>
    `embedkit: error: ${path} was built through the API root ${stored}, and this run would send the query, with your API key, to ${here}. embedkit never sends a query to a server named in an index file on its own. If you trust ${stored} with your key, pass --base-url ${stored}; otherwise rebuild the index through your own API root.\n`;

  it('never sends the query (or the key) to the server an index names: refused with exit 2, naming it (bug: a shared .ekx collected the key)', async () => {
    // An index made by someone else, through their server: the file names it.
    const theirs = await startFakeOpenAI();
    try {
      const shared = join(directory.path, 'shared.ekx');
      expect((await runCli([...indexDocsArgs(shared), '--base-url', theirs.baseURL])).code).toBe(0);
      const before = { theirs: theirs.requests, ours: server.requests };
      // Nothing set: the run would go to the provider's own host, which is not the one in the file.
      const plain = await runCli(['search', shared, 'do cats purr'], {
        env: { EMBEDKIT_BASE_URL: undefined, OPENAI_BASE_URL: undefined },
      });
      expect(plain.code).toBe(2);
      expect(plain.stderr).toBe(otherServer(shared, theirs.baseURL, "the provider's own API"));
      // The user's own server, named by the provider's variable or EMBEDKIT_BASE_URL, is not theirs either.
      for (const env of [{ OPENAI_BASE_URL: server.baseURL }, { EMBEDKIT_BASE_URL: server.baseURL }]) {
        const mine = await runCli(['search', shared, 'do cats purr'], { env });
        expect(mine.code).toBe(2);
        expect(mine.stderr).toBe(otherServer(shared, theirs.baseURL, server.baseURL));
      }
      expect(theirs.requests).toBe(before.theirs);
      expect(server.requests).toBe(before.ours);
      expect(theirs.authorizations.has(`Bearer ${FAKE_KEY}`)).toBe(true); // from building the index only
      // Trusting it is the user's explicit choice.
      const trusted = await runCli([
        'search',
        shared,
        'do cats purr',
        '--top',
        '1',
        '--base-url',
        theirs.baseURL,
      ]);
      expect(trusted.stderr).toBe('');
      expect(trusted.stdout.split('\t')[2]).toBe('"purr"');
      expect(theirs.requests).toBe(before.theirs + 1);
    } finally {
      await theirs.close();
    }
  });

  it('a replayed search sends nothing, so an index built through another API root is searched (bug: refused as if the query and key went to the provider)', async () => {
    const theirs = await startFakeOpenAI();
    try {
      const shared = join(directory.path, 'shared-replayed.ekx');
      expect((await runCli([...indexDocsArgs(shared), '--base-url', theirs.baseURL])).code).toBe(0);
      const query = 'do cats purr';
      const vector = vectorFor(query, DIMENSIONS);
      const cassettes = join(directory.path, 'query-cassettes');
      mkdirSync(cassettes);
      const request = {
        model: 'text-embedding-3-small',
        input: [query],
        encoding_format: 'base64',
        dimensions: 16,
      };
      const embedding = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
      writeFileSync(
        join(cassettes, 'query.json'),
        JSON.stringify({
          version: 1,
          name: 'query',
          source: 'constructed',
          call: { modelId: 'text-embedding-3-small', inputs: [query], dimensions: DIMENSIONS },
          interactions: [
            {
              request: { method: 'POST', path: '/v1/embeddings', body: request },
              response: {
                status: 200,
                headers: { 'content-type': 'application/json' },
                body: {
                  object: 'list',
                  data: [{ object: 'embedding', index: 0, embedding }],
                  model: 'text-embedding-3-small',
                  usage: { prompt_tokens: 4, total_tokens: 4 },
                },
              },
            },
          ],
          expect: { embeddings: { count: 1, dimensions: DIMENSIONS }, usage: { inputTokens: 4 } },
        }),
      );
      const before = { theirs: theirs.requests, ours: server.requests };
      const replayed = await runCli(['search', shared, query, '--top', '2', '--replay', cassettes], {
        env: { OPENAI_API_KEY: undefined, EMBEDKIT_BASE_URL: undefined, OPENAI_BASE_URL: undefined },
      });
      expect(replayed.stderr).toBe('');
      expect(replayed.code).toBe(0);
      const text = (id: string) => DOCS.find((doc) => doc.id === id)!.text;
      expect(replayed.stdout).toBe(
        expectedRanking(query, 2)
          .map((hit, rank) => `${rank + 1}\t${hit.score.toFixed(4)}\t"${hit.id}"\t${text(hit.id)}\n`)
          .join(''),
      );
      expect([theirs.requests, server.requests]).toEqual([before.theirs, before.ours]);
    } finally {
      await theirs.close();
    }
  });

  it('an index built through the API root this run resolves to is searched: by --base-url, EMBEDKIT_BASE_URL or the provider variable (OPENAI_BASE_URL)', async () => {
    const viaVariable = join(directory.path, 'via-variable.ekx');
    const built = await runCli(indexDocsArgs(viaVariable), { env: { OPENAI_BASE_URL: server.baseURL } });
    expect(built.code).toBe(0);
    expect(readIndexFile(viaVariable).header.baseURL).toBe(server.baseURL);
    const before = server.requests;
    for (const [args, env] of [
      [[], { OPENAI_BASE_URL: server.baseURL }],
      [[], { EMBEDKIT_BASE_URL: `${server.baseURL}/` }],
      [['--base-url', server.baseURL], {}],
    ] as const) {
      const result = await runCli(['search', viaVariable, 'do cats purr', '--top', '1', ...args], { env });
      expect(result.stderr).toBe('');
      expect(result.stdout.split('\t')[2]).toBe('"purr"');
    }
    expect(server.requests).toBe(before + 3);
  });

  it("an index built through the provider's own host (no API root stored) is searched as the run's settings say", async () => {
    const { header, vectorsOffset } = readIndexFile(index);
    const bytes = readFileSync(index);
    for (const [name, stored] of [
      ['null', { ...header, baseURL: null }],
      ['absent', Object.fromEntries(Object.entries(header).filter(([key]) => key !== 'baseURL'))],
    ] as const) {
      const json = Buffer.from(JSON.stringify(stored));
      const start = Buffer.alloc(Math.ceil((12 + json.length) / 16) * 16);
      start.write('EKINDEX1', 'latin1');
      start.writeUInt32LE(json.length, 8);
      json.copy(start, 12);
      const path = join(directory.path, `default-host-${name}.ekx`);
      writeFileSync(path, Buffer.concat([start, bytes.subarray(vectorsOffset)]));
      const before = server.requests;
      const result = await runCli(['search', path, 'do cats purr', '--top', '1'], {
        env: { OPENAI_BASE_URL: server.baseURL },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout.split('\t')[2]).toBe('"purr"');
      expect(server.requests).toBe(before + 1);
    }
  });

  it('--json gives the scores, ids, lines, texts and metadata', async () => {
    const query = 'rust borrow checker';
    const result = await runCli([
      'search',
      index,
      query,
      '--top',
      '2',
      '--json',
      '--base-url',
      server.baseURL,
    ]);
    expect(result.code).toBe(0);
    const hits = JSON.parse(result.stdout) as {
      rank: number;
      score: number;
      id: string;
      line: number;
      text: string;
      metadata: unknown;
    }[];
    const expected = expectedRanking(query, 2);
    expect(hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
    expect(hits[0]).toEqual({
      rank: 1,
      score: expect.closeTo(expected[0]!.score, 6),
      id: 'rust',
      line: 4,
      text: DOCS[3]!.text,
      metadata: { position: 3 },
    });
  });

  it('refuses another model or another length: the vectors would not be comparable', async () => {
    const before = server.requests;
    const model = await runCli([
      'search',
      index,
      'cats',
      '--model',
      'openai:text-embedding-3-large',
      '--base-url',
      server.baseURL,
    ]);
    expect(model.code).toBe(2);
    expect(model.stderr).toBe(
      `embedkit: error: ${index} was built with openai:text-embedding-3-small; refusing to search it with openai:text-embedding-3-large: vectors of different models are not comparable. Rebuild the index with that model, or drop --model.\n`,
    );
    const dimensions = await runCli([
      'search',
      index,
      'cats',
      '--dimensions',
      '32',
      '--base-url',
      server.baseURL,
    ]);
    expect(dimensions.code).toBe(2);
    expect(dimensions.stderr).toBe(
      `embedkit: error: ${index} holds 16-dimension vectors; refusing to search it with --dimensions 32.\n`,
    );
    expect(server.requests).toBe(before);
    // The same model, named explicitly, is fine.
    const same = await runCli([
      'search',
      index,
      'cats',
      '--model',
      'openai:text-embedding-3-small',
      '--top',
      '1',
      '--base-url',
      server.baseURL,
    ]);
    expect(same.code).toBe(0);
    expect(same.stdout.split('\t')[0]).toBe('1');
  });

  it('a file that is not an index, and an index that does not exist', async () => {
    const missing = join(directory.path, 'none.ekx');
    const result = await runCli(['search', missing, 'cats']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`embedkit: error: cannot read ${missing}: no such file.\n`);
    const notIndex = await runCli(['search', input, 'cats']);
    expect(notIndex.code).toBe(1);
    expect(notIndex.stderr).toBe(
      `embedkit: error: ${input} is not an embedkit index (made by "embedkit index").\n`,
    );
  });

  it('a bad input line leaves no index behind', async () => {
    const broken = join(directory.path, 'broken.jsonl');
    writeFileSync(broken, '{"text":"fine"}\n{"text":\n');
    const out = join(directory.path, 'broken.ekx');
    const result = await runCli(indexArgs(server, broken, out, [], 8));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`embedkit: error: ${broken}:2: not valid JSON (`);
    expect(result.stderr).toContain('No index was written.');
    const listing = (await import('node:fs')).readdirSync(directory.path);
    expect(listing.filter((name) => name.startsWith('broken.ekx'))).toEqual([]);
  });
});
