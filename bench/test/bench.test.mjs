// Smoke tests of the bench: the loopback server speaks every wire and enforces rate limits, and
// `--quick` runs end to end. No figure is asserted: benchmarks are not tests.

import { execFile, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedVector, makeInputs, sameVector } from '../src/data.mjs';

const source = new URL('../src/', import.meta.url);
let server;
let base;

async function start(options) {
  const child = fork(new URL('server.mjs', source), [], {
    env: { ...process.env, BENCH_SERVER_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve) =>
    child.on('message', (message) => message.type === 'ready' && resolve(message.port)),
  );
  return { child, base: `http://127.0.0.1:${port}` };
}

async function post(path, body, headers = {}) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
}

const fromBase64 = (text) => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
};

describe('loopback server', () => {
  beforeAll(async () => {
    ({ child: server, base } = await start({}));
  });
  afterAll(() => server?.kill());

  it('answers the OpenAI wire in base64 and float with the same vectors, in order', async () => {
    const input = makeInputs(3, 40);
    const float = await post('/openai/v1/embeddings', {
      model: 'text-embedding-3-large',
      input,
      dimensions: 16,
    });
    const base64 = await post('/openai/v1/embeddings', {
      model: 'text-embedding-3-large',
      input,
      dimensions: 16,
      encoding_format: 'base64',
    });
    expect(float.status).toBe(200);
    expect(float.body.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(float.body.usage.prompt_tokens).toBeGreaterThan(0);
    input.forEach((text, index) => {
      const expected = expectedVector(text, 16);
      expect(sameVector(float.body.data[index].embedding, expected)).toBe(true);
      expect(sameVector(fromBase64(base64.body.data[index].embedding), expected)).toBe(true);
    });
  });

  it('answers the Voyage wire, base64 when asked', async () => {
    const input = makeInputs(2);
    const response = await post('/voyage/v1/embeddings', {
      model: 'voyage-3.5',
      input,
      output_dimension: 8,
      encoding_format: 'base64',
    });
    expect(response.status).toBe(200);
    expect(response.body.usage.total_tokens).toBeGreaterThan(0);
    expect(sameVector(fromBase64(response.body.data[1].embedding), expectedVector(input[1], 8))).toBe(true);
  });

  it('answers Gemini batchEmbedContents and embedContent', async () => {
    const input = makeInputs(2, 7);
    const batch = await post(
      '/gemini/v1beta/models/gemini-embedding-001:batchEmbedContents',
      { requests: input.map((text) => ({ content: { parts: [{ text }] }, outputDimensionality: 8 })) },
      { 'x-goog-api-key': 'test' },
    );
    const single = await post(
      '/gemini/v1beta/models/gemini-embedding-001:embedContent',
      { content: { parts: [{ text: input[0] }] }, outputDimensionality: 8 },
      { 'x-goog-api-key': 'test' },
    );
    expect(sameVector(batch.body.embeddings[1].values, expectedVector(input[1], 8))).toBe(true);
    expect(sameVector(single.body.embedding.values, expectedVector(input[0], 8))).toBe(true);
    // @google/genai 3 calls the v1 API by default: the same wire.
    const v1 = await post(
      '/gemini/v1/models/gemini-embedding-001:embedContent',
      { content: { parts: [{ text: input[1] }] }, outputDimensionality: 8 },
      { 'x-goog-api-key': 'test' },
    );
    expect(sameVector(v1.body.embedding.values, expectedVector(input[1], 8))).toBe(true);
  });

  it('indents Gemini answers as the API does by default, and writes them compact for prettyPrint=false', async () => {
    const input = makeInputs(2, 7);
    const path = '/gemini/v1beta/models/gemini-embedding-001:batchEmbedContents';
    const body = {
      requests: input.map((text) => ({ content: { parts: [{ text }] }, outputDimensionality: 8 })),
    };
    const headers = { 'x-goog-api-key': 'test' };
    const pretty = await post(path, body, headers);
    const compact = await post(`${path}?prettyPrint=false`, body, headers);
    const dollar = await post(`${path}?alt=json&%24prettyPrint=false`, body, headers);
    // The values as the compact answer spells them (shortest float32 decimals), one a line when indented.
    const [first, second] = compact.body.embeddings.map((item) => item.values);
    const line = (vector, indent) => vector.map((value) => `${indent}${JSON.stringify(value)}`);
    // Exactly: one value a line, two spaces a level.
    const values = (vector) => `[\n${line(vector, ' '.repeat(8)).join(',\n')}\n      ]`;
    expect(pretty.text).toBe(
      `{\n  "embeddings": [\n    {\n      "values": ${values(first)}\n    },\n    {\n      "values": ${values(second)}\n    }\n  ]\n}\n`,
    );
    expect(compact.text).toBe(JSON.stringify(compact.body));
    expect(dollar.text).toBe(compact.text);
    expect(compact.body).toEqual(pretty.body);
    expect(sameVector(second, expectedVector(input[1], 8))).toBe(true);
    const single = await post(
      '/gemini/v1beta/models/gemini-embedding-001:embedContent',
      { content: { parts: [{ text: input[0] }] }, outputDimensionality: 8 },
      headers,
    );
    expect(single.text).toBe(
      `{\n  "embedding": {\n    "values": [\n${line(first, ' '.repeat(6)).join(',\n')}\n    ]\n  }\n}\n`,
    );
  });

  it('refuses with 429 and Retry-After once a key spent its requests per minute', async () => {
    const limited = await start({ rateLimit: { requestsPerMinute: 2 } });
    try {
      const statuses = [];
      let last;
      for (let index = 0; index < 3; index++) {
        last = await fetch(`${limited.base}/openai/v1/embeddings`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer limited' },
          body: JSON.stringify({ model: 'm', input: ['#1 a'], dimensions: 4 }),
        });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(last.headers.get('retry-after-ms'))).toBeGreaterThan(0);
      expect((await last.json()).error.code).toBe('rate_limit_exceeded');
    } finally {
      limited.child.kill();
    }
  });
});

describe('npm run bench -- --quick', () => {
  it('measures the floor, embedkit base64 and embedkit float and writes the report', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'embedkit-bench-'));
    const out = join(directory, 'quick.md');
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [new URL('run.mjs', source).pathname, '--quick', '--out', out],
        {
          timeout: 120_000,
        },
      );
      expect(stdout).toMatch(/floor \(undici\.request \+ Buffer base64\)\s+\d/);
      expect(stdout).toMatch(/embedkit base64 \/ floor \(CPU\)\s+[\d.]+x/);
      const report = readFileSync(out, 'utf8');
      expect(report).toContain('| embedkit (base64) |');
      expect(report).toContain('| embedkit (float) |');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 150_000);
});

describe('npm run bench -- --decode --quick', () => {
  it('decodes each answer shape both ways, to the same values, and prints the table', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [new URL('run.mjs', source).pathname, '--decode', '--quick'],
      { timeout: 120_000 },
    );
    // decodeRun throws (and the run exits non-zero) when either decode reads a value the answer does not carry.
    for (const shape of [
      '128 x 1,024',
      '128 x 3,072',
      '1,000 x 1,024',
      '100 x 3,072 \\(Gemini, pretty-printed\\)',
    ])
      expect(stdout).toMatch(
        new RegExp(`${shape}\\s+embedkit [\\d.,]+ µs / vector, JSON\\.parse [\\d.,]+ µs / vector`),
      );
  }, 150_000);
});
