import type { ChildProcess } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_KEY,
  type FakeServer,
  filesIn,
  indexArgs,
  OPENAI_CASSETTES,
  PACKAGE_ROOT,
  readIndexFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  waitFor,
  within,
} from './helpers.js';

const VOYAGE_KEY = 'pa-fake-cli-key-Hq2w7rT4';
const VOYAGE_CASSETTES = join(PACKAGE_ROOT, '..', 'provider-voyage', 'test', 'cassettes');
const FOOD = 'The food was delicious and the waiter was friendly.';

/** The bytes the fake Voyage server answers for a vector of `length` values: value k is (k·37 + 1) mod 256. */
function answerBytes(length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, k) => (k * 37 + 1) % 256));
}

/**
 * A loopback server speaking Voyage's `POST /v1/embeddings` in base64: `length` packed bytes for
 * `binary` (the model's 1,024 dimensions by default, eight a byte), 1,024 bytes for `int8`.
 */
async function startFakeVoyage(): Promise<{ baseURL: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        input: string[];
        model: string;
        output_dimension?: number;
        output_dtype?: string;
      };
      const dimensions = body.output_dimension ?? 1024;
      const length = body.output_dtype === 'binary' ? dimensions / 8 : dimensions;
      const data = body.input.map((_, index) => ({
        object: 'embedding',
        index,
        embedding: answerBytes(length).toString('base64'),
      }));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data, model: body.model, usage: { total_tokens: 3 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('embed --json describes the vectors it prints', () => {
  let voyage: Awaited<ReturnType<typeof startFakeVoyage>>;
  let openai: FakeServer;
  beforeAll(async () => {
    voyage = await startFakeVoyage();
    openai = await startFakeOpenAI();
  });
  afterAll(async () => {
    await voyage.close();
    await openai.close();
  });

  /** `embedkit embed <text> --json --model <model> --base-url <url> …`. */
  const embedJson = (text: string, model: string, baseURL: string, extra: string[]) =>
    runCli(['embed', text, '--json', '--model', model, '--base-url', baseURL, ...extra], {
      env: { VOYAGE_API_KEY: VOYAGE_KEY },
    });
  const voyageEmbed = (outputType: string) =>
    embedJson('pets', 'voyage:voyage-3.5', voyage.baseURL, ['--output-type', outputType]);

  it('a binary vector has the model’s 1024 dimensions, eight a value, not its 128 packed values (bug: "dimensions": 128)', async () => {
    const result = await voyageEmbed('binary');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toStrictEqual({
      model: 'voyage:voyage-3.5',
      dimensions: 1024,
      outputType: 'binary',
      inputType: null,
      usage: { inputTokens: 3 },
      embeddings: [[...new Int8Array(answerBytes(128))]],
    });
  });

  it('an int8 vector has as many dimensions as values', async () => {
    const result = await voyageEmbed('int8');
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { dimensions: number; embeddings: number[][] };
    expect(body.dimensions).toBe(1024);
    expect(body.embeddings[0]).toStrictEqual([...new Int8Array(answerBytes(1024))]);
    expect(result.stdout).not.toContain(VOYAGE_KEY);
  });

  it('an --input-type the model lacks, sent as none, is printed as none (bug: "inputType": "query" beside the warning that none was sent)', async () => {
    const result = await embedJson('item 3', 'openai:text-embedding-3-small', openai.baseURL, [
      '--dimensions',
      '4',
      '--input-type',
      'query',
    ]);
    expect(result.stderr).toBe(
      'warning: openai model text-embedding-3-small has no "query" input type; the inputs were sent without one.\n',
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toStrictEqual({
      model: 'openai:text-embedding-3-small',
      dimensions: 4,
      outputType: 'float',
      inputType: null,
      usage: { inputTokens: 2 },
      embeddings: [[3, 12.5, 0.75, 1.625]],
    });
  });

  it('a closed stdout (embedkit embed … | head -c1) ends the command with exit 0 and nothing on stderr', async () => {
    const result = await runCli(
      ['embed', FOOD, '--model', 'openai:text-embedding-3-small', '--replay', OPENAI_CASSETTES],
      { env: { OPENAI_API_KEY: undefined }, onSpawn: (child) => child.stdout!.destroy() },
    );
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
  });
});

describe('--replay lists what every recording holds', () => {
  it('the query and documents of rerank and contextualized cassettes are listed (bug: "The recordings hold these inputs:" and nothing under it)', async () => {
    const directory = temporaryDirectory();
    try {
      copyFileSync(join(VOYAGE_CASSETTES, 'rerank', 'top-2-of-3.json'), join(directory.path, 'rerank.json'));
      copyFileSync(
        join(VOYAGE_CASSETTES, 'contextualized', 'two-documents-256.json'),
        join(directory.path, 'chunks.json'),
      );
      const result = await runCli(
        ['embed', 'kale', '--model', 'voyage:voyage-3.5', '--replay', directory.path, '--max-retries', '0'],
        { env: { VOYAGE_API_KEY: undefined } },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `embedkit: error: no recording matches the input "kale" in ${directory.path} (voyage:voyage-3.5).\n` +
          'The recordings hold these inputs:\n' +
          '  "Leafy greens such as kale hold calcium and iron."  (cassette "contextualized two documents, 256 dimensions", voyage-context-3)\n' +
          '  "Spinach is best eaten lightly steamed."  (cassette "contextualized two documents, 256 dimensions", voyage-context-3)\n' +
          '  "A cat sleeps up to sixteen hours a day."  (cassette "contextualized two documents, 256 dimensions", voyage-context-3)\n' +
          '  "Which vegetables are rich in calcium?"  (cassette "rerank top 2 of 3", rerank-2.5)\n' +
          '  "Kale and collard greens are rich in calcium."  (cassette "rerank top 2 of 3", rerank-2.5)\n' +
          '  "Cats are obligate carnivores."  (cassette "rerank top 2 of 3", rerank-2.5)\n' +
          '  "Broccoli and bok choy provide calcium too."  (cassette "rerank top 2 of 3", rerank-2.5)\n' +
          'Embed one of them, with the same options, or record a cassette for this call.\n',
      );
    } finally {
      directory.remove();
    }
  });
});

describe('index and search', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  it('index --overwrite through a symbolic link replaces the file the link names, and the link stays (bug: the link was replaced by a file, and the file it named kept the earlier index)', async () => {
    mkdirSync(join(directory.path, 'data'));
    const target = file('data/docs.ekx');
    const link = file('docs-link.ekx');
    const first = await runCli(indexArgs(server, file('first.txt', 'item 1\nitem 2\n'), target));
    expect(first.code).toBe(0);
    symlinkSync(join('data', 'docs.ekx'), link);
    const second = await runCli(
      indexArgs(server, file('second.txt', 'item 3\nitem 4\nitem 5\n'), link, ['--overwrite']),
    );
    expect(second.stderr).toBe(
      `embedkit: indexed 3 inputs (4 dimensions, openai:text-embedding-3-small) into ${link}\n`,
    );
    expect(second.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(join('data', 'docs.ekx'));
    expect(readIndexFile(target).docs.map((doc) => doc.text)).toStrictEqual(['item 3', 'item 4', 'item 5']);
    expect(readdirSync(join(directory.path, 'data'))).toStrictEqual(['docs.ekx']);
  });

  it('documents that score alike keep their order in the file, and a --top past the index lists each once', async () => {
    const input = file(
      'ties.jsonl',
      `${['c', 'a', 'b'].map((id) => JSON.stringify({ id, text: 'same words' })).join('\n')}\n{"id":"d","text":"other thing"}\n`,
    );
    const out = file('ties.ekx');
    expect((await runCli(indexArgs(server, input, out, [], 8))).code).toBe(0);
    const result = await runCli(['search', out, 'same words', '--top', '10', '--base-url', server.baseURL]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      '1\t1.0000\t"c"\tsame words\n2\t1.0000\t"a"\tsame words\n3\t1.0000\t"b"\tsame words\n4\t0.0000\t"d"\tother thing\n',
    );
    expect(result.code).toBe(0);
  });

  it('Ctrl-C while index waits for more of a stalled stdin ends the run with 130, leaving no lock and no temporary file', async () => {
    const out = file('stalled.ekx');
    const requests = server.requests;
    let child: ChildProcess | undefined;
    const running = runCli(indexArgs(server, '-', out, ['--format', 'txt', '--batch-size', '1']), {
      holdStdin: true,
      onSpawn: (spawned) => {
        child = spawned;
        spawned.stdin!.write('item 1\nitem 2\n');
      },
    });
    try {
      await waitFor(() => server.requests >= requests + 2, 'both lines sent');
      child!.kill('SIGINT');
      const exited = await within(running, 5_000);
      expect(exited, 'the process ended within 5 s of the signal').toBeDefined();
      expect(exited).toMatchObject({
        code: 130,
        signal: null,
        stderr: 'embedkit: interrupted; no index was written.\n',
      });
      expect(readdirSync(directory.path).filter((name) => name.startsWith('stalled.ekx'))).toStrictEqual([]);
      expect(exited!.stderr).not.toContain(FAKE_KEY);
    } finally {
      child?.stdin?.end();
    }
  });
});
