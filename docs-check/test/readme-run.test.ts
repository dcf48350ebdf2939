/**
 * The README examples a newcomer copies first run as written, not only compile (readme.test.ts compiles
 * them): each block listed in RUN is transpiled as it stands into `.generated-run/` beside this file (so
 * the packages resolve by their names to the built packages) and run by Node in a directory of its own,
 * against a loopback server that answers as OpenAI, Voyage, Gemini and Jina answer. The reader's
 * environment is that of someone who already uses an API: a key of each provider, and each provider's
 * base URL variable set (as a gateway user has `OPENAI_BASE_URL`), here pointing at the loopback server.
 * `REDIS_URL` names a redis-server the test starts (Debian's, as the redis package's tests use). A block
 * passes when it exits 0 with nothing on stderr. Every block of every README is either run here or listed in
 * COMPILED_ONLY with the reason it cannot run as written, and a test holds that, so a new example is never
 * left compiled only by accident.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../bench/src/redis-server.mjs';
import { type Block, blocksOf, readmes } from './readme-blocks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATED = join(import.meta.dirname, '.generated-run');
const OPENAI_CASSETTES = join(ROOT, 'packages', 'provider-openai', 'test', 'cassettes');

interface Run {
  readme: string;
  heading: string;
  /** Only the blocks under the heading whose code holds this text (all of them when absent). */
  holding?: string;
  /** Files copied into the block's working directory before it runs (its relative paths read them). */
  files?: Record<string, string>;
  /**
   * The names the block uses as the reader already has them (readme.test.ts's placeholders), defined
   * before it as a reader would: `model` an OpenAI model (through `OPENAI_BASE_URL`), `documents` three texts.
   */
  placeholders?: (keyof typeof PLACEHOLDERS)[];
  /** The oldest Node major the block's own imports run on; on an older Node it is skipped, saying so. */
  minimumNode?: number;
}

const PLACEHOLDERS = {
  model:
    "import { openai as readmeOpenAI } from '@embedkit/provider-openai';\nconst model = readmeOpenAI.embedding('text-embedding-3-small');",
  documents:
    "const documents = ['The cat sat on the mat', 'Dogs are loyal companions', 'Python is a programming language'];",
};

/** The blocks run, by README and heading: every block under the heading runs, each on its own. */
const RUN: Run[] = [
  { readme: 'README.md', heading: 'Quickstart' },
  { readme: 'README.md', heading: 'Rate limits', placeholders: ['model', 'documents'] },
  // The Redis block against a redis-server of the test's own (REDIS_URL), and the disk cache block.
  { readme: 'README.md', heading: 'Running many processes', placeholders: ['documents'] },
  {
    readme: 'README.md',
    heading: 'Using embedkit with the AI SDK / LangChain',
    holding: "from 'ai'",
    placeholders: ['documents'],
    minimumNode: 22,
  },
  {
    readme: 'README.md',
    heading: 'Using embedkit with the AI SDK / LangChain',
    holding: '@embedkit/langchain',
    placeholders: ['model', 'documents'],
  },
  { readme: 'packages/core/README.md', heading: '@embedkit/core' },
  { readme: 'packages/provider-openai/README.md', heading: 'Example' },
  // Each only creates a provider and a model: the run shows that the constructor takes what it shows.
  { readme: 'packages/provider-openai/README.md', heading: 'OpenAI-compatible servers' },
  { readme: 'packages/provider-voyage/README.md', heading: 'Example' },
  { readme: 'packages/provider-gemini/README.md', heading: 'Example' },
  { readme: 'packages/provider-gemini/README.md', heading: 'Batch jobs' },
  { readme: 'packages/provider-jina/README.md', heading: 'Example' },
  { readme: 'packages/cache-disk/README.md', heading: 'Example' },
  // Against a redis-server of the test's own, named by REDIS_URL as the example reads it.
  { readme: 'packages/redis/README.md', heading: 'Example' },
  // The replay reads `test/cassettes` from where it runs: the repository's OpenAI recordings.
  {
    readme: 'packages/replay/README.md',
    heading: '@embedkit/replay',
    files: { 'test/cassettes': OPENAI_CASSETTES },
  },
  { readme: 'packages/langchain/README.md', heading: 'Example' },
  { readme: 'packages/ai-sdk/README.md', heading: 'embedkit in the AI SDK', minimumNode: 22 },
];

/** The blocks that are compiled only (readme.test.ts), each with the reason it cannot run here as written. */
const COMPILED_ONLY: (Pick<Run, 'readme' | 'heading'> & { reason: string })[] = [
  {
    readme: 'README.md',
    heading: 'Browsers and edge',
    reason: "a page's relative base URL; runtimes/ runs the replay and embedMany in headless Chromium",
  },
  {
    readme: 'packages/ai-sdk/README.md',
    heading: 'AI SDK providers in embedkit',
    reason:
      '@ai-sdk/cohere takes its base URL only in code, so the block as written would call api.cohere.com',
  },
  {
    readme: 'conformance/README.md',
    heading: '@embedkit/conformance',
    reason:
      "it declares vitest suites, which only vitest runs; the suite's own tests run it on the repository's providers",
  },
];

const underHeading = (run: Pick<Run, 'readme' | 'heading'> & { holding?: string }) =>
  blocksOf(join(ROOT, run.readme), ROOT, GENERATED).filter(
    (block) =>
      block.heading === run.heading && (run.holding === undefined || block.code.includes(run.holding)),
  );

const BLOCKS = new Map<Run, Block[]>(RUN.map((run) => [run, underHeading(run)]));
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

// ---- the loopback API ---------------------------------------------------------------------------

/** A unit vector of `length` values, and its little-endian float32 bytes in base64. */
const unit = (length: number) => Array.from({ length }, () => 1 / Math.sqrt(length));
const base64 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');
const texts = (input: unknown): unknown[] => (Array.isArray(input) ? input : [input]);

type Body = Record<string, unknown>;
type Answer = [status: number, body: unknown];

function openAI(body: Body): Answer {
  const length = (body.dimensions as number | undefined) ?? 1536;
  const data = texts(body.input).map((_, index) => ({
    object: 'embedding',
    index,
    embedding: body.encoding_format === 'base64' ? base64(unit(length)) : unit(length),
  }));
  return [200, { object: 'list', data, model: body.model, usage: { prompt_tokens: 8, total_tokens: 8 } }];
}

function voyage(path: string, body: Body): Answer {
  const length = (body.output_dimension as number | undefined) ?? 1024;
  const embedding = (index: number) => ({ object: 'embedding', index, embedding: base64(unit(length)) });
  const usage = { total_tokens: 8 };
  if (path.endsWith('/rerank')) {
    const documents = body.documents as string[];
    const data = documents.map((_, index) => ({ index, relevance_score: 1 - index / 10 }));
    return [200, { object: 'list', data: data.slice(0, body.top_k as number), model: body.model, usage }];
  }
  if (path.endsWith('/contextualizedembeddings')) {
    const data = (body.inputs as string[][]).map((chunks, index) => ({
      object: 'list',
      index,
      data: chunks.map((_, chunk) => embedding(chunk)),
    }));
    return [200, { object: 'list', data, model: body.model, usage }];
  }
  const inputs = path.endsWith('/multimodalembeddings') ? (body.inputs as unknown[]) : texts(body.input);
  return [
    200,
    { object: 'list', data: inputs.map((_, index) => embedding(index)), model: body.model, usage },
  ];
}

/** Inline batches of `:asyncBatchEmbedContent`, answered as done at their first `get`. */
const geminiBatches = new Map<string, unknown[]>();

function gemini(path: string, body: Body): Answer {
  type Request = { outputDimensionality?: number };
  const values = (request: Request) => ({ values: unit(request.outputDimensionality ?? 3072) });
  if (path.endsWith(':embedContent')) return [200, { embedding: values(body as Request) }];
  if (path.endsWith(':batchEmbedContents'))
    return [200, { embeddings: (body.requests as Request[]).map(values) }];
  if (path.endsWith(':asyncBatchEmbedContent')) {
    const batch = body.batch as { inputConfig: { requests: { requests: unknown[] } } };
    const name = `batches/b${geminiBatches.size + 1}`;
    geminiBatches.set(name, batch.inputConfig.requests.requests);
    const count = String(batch.inputConfig.requests.requests.length);
    const metadata = { name, state: 'BATCH_STATE_PENDING', batchStats: { requestCount: count } };
    return [200, { name, metadata, done: false }];
  }
  const name = /\/(batches\/[^/:]+)$/.exec(path)?.[1];
  const requests = name === undefined ? undefined : geminiBatches.get(name);
  if (requests === undefined)
    return [404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } }];
  type Inline = { request: Request; metadata: unknown };
  const inlinedResponses = (requests as Inline[]).map(({ request, metadata }) => ({
    response: { embedding: values(request) },
    metadata,
  }));
  const count = String(requests.length);
  const metadata = {
    name,
    state: 'BATCH_STATE_SUCCEEDED',
    batchStats: { requestCount: count, successfulRequestCount: count },
    output: { inlinedResponses: { inlinedResponses } },
  };
  return [200, { name, metadata, done: true }];
}

function jina(path: string, body: Body): Answer {
  const usage = { total_tokens: 8, prompt_tokens: 8 };
  if (path.endsWith('/rerank')) {
    const results = (body.documents as unknown[]).map((_, index) => ({
      index,
      relevance_score: 1 - index / 10,
    }));
    return [
      200,
      { model: body.model, object: 'list', usage, results: results.slice(0, body.top_n as number) },
    ];
  }
  const length = (body.dimensions as number | undefined) ?? (String(body.model).includes('v4') ? 2048 : 1024);
  const embedding = () =>
    body.embedding_type === 'binary' ? Array.from({ length: length / 8 }, () => 127) : base64(unit(length));
  const data = texts(body.input).map((_, index) => ({ object: 'embedding', index, embedding: embedding() }));
  return [200, { model: body.model, object: 'list', usage, data }];
}

function answer(request: IncomingMessage, response: ServerResponse, raw: string): void {
  const path = new URL(request.url ?? '/', 'http://loopback').pathname;
  const body = (raw === '' ? {} : JSON.parse(raw)) as Body;
  const [prefix] = path.split('/').filter(Boolean);
  const rest = path.slice(prefix === undefined ? 0 : prefix.length + 1);
  const [status, json]: Answer =
    prefix === 'openai'
      ? openAI(body)
      : prefix === 'voyage'
        ? voyage(rest, body)
        : prefix === 'gemini'
          ? gemini(rest, body)
          : prefix === 'jina'
            ? jina(rest, body)
            : [404, { error: { message: `no API at ${path}` } }];
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
}

let server: Server;
let origin: string;
let redis: RedisServer;

beforeAll(async () => {
  server = createServer((request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      raw += chunk;
    });
    request.on('end', () => answer(request, response, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  redis = await startRedisServer();
  rmSync(GENERATED, { recursive: true, force: true });
  mkdirSync(GENERATED, { recursive: true });
});

afterAll(async () => {
  await redis?.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(GENERATED, { recursive: true, force: true });
});

/** The reader's environment: fake keys, and every provider's base URL variable set to the loopback API. */
function readerEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_PROXY: '*', NODE_NO_WARNINGS: '1' };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']) delete env[name];
  return {
    ...env,
    OPENAI_API_KEY: 'sk-test-fake-readme-0001',
    OPENAI_BASE_URL: `${origin}/openai/v1`,
    VOYAGE_API_KEY: 'pa-test-fake-readme-0001',
    VOYAGE_BASE_URL: `${origin}/voyage/v1`,
    GEMINI_API_KEY: 'test-fake-gemini-readme-0001',
    GEMINI_BASE_URL: `${origin}/gemini/v1beta`,
    JINA_API_KEY: 'jina_testfakereadme0001',
    JINA_BASE_URL: `${origin}/jina/v1`,
    REDIS_URL: redis.url,
  };
}

/** Runs one block as a module, in a directory of its own; its exit code and what it wrote to stderr. */
async function run(block: Block, spec: Run): Promise<{ code: number | null; stderr: string }> {
  const before = (spec.placeholders ?? []).map((name) => PLACEHOLDERS[name]).join('\n');
  const { outputText } = ts.transpileModule(`${before}\n${block.code}\nexport {};\n`, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = block.file.replace(/\.ts$/, '.mjs');
  writeFileSync(file, outputText);
  const cwd = mkdtempSync(join(tmpdir(), 'readme-run-'));
  try {
    for (const [to, from] of Object.entries(spec.files ?? {}))
      cpSync(from, join(cwd, to), { recursive: true });
    const child = spawn(process.execPath, [file], {
      cwd,
      env: readerEnvironment(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe('the README examples run as written', () => {
  it('finds a block under each listed heading', () => {
    for (const [{ readme, heading, holding }, blocks] of BLOCKS)
      expect(blocks.length, `${readme} # ${heading}${holding ? ` holding ${holding}` : ''}`).toBeGreaterThan(
        0,
      );
    // A block listed as compiled only that is gone (its heading renamed) leaves a reason that speaks of nothing.
    for (const entry of COMPILED_ONLY)
      expect(
        underHeading(entry).length,
        `${entry.readme} # ${entry.heading} (compiled only)`,
      ).toBeGreaterThan(0);
  });

  it('runs every block of every README, or says why one is compiled only', () => {
    const blocks = readmes(ROOT).flatMap((path) => blocksOf(path, ROOT, GENERATED));
    const runBlocks = [...BLOCKS.values()].flat();
    const counts = blocks.map((block) => {
      const run = runBlocks.filter((other) => other.file === block.file).length;
      const compiled = COMPILED_ONLY.filter((entry) =>
        underHeading(entry).some((other) => other.file === block.file),
      ).length;
      return `${block.readme}:${block.line} ${run + compiled}`;
    });
    expect(counts).toEqual(blocks.map((block) => `${block.readme}:${block.line} 1`));
  });

  for (const [spec, blocks] of BLOCKS) {
    for (const block of blocks) {
      const name = `${block.readme}:${block.line} (${block.heading}) runs`;
      if (spec.minimumNode !== undefined && NODE_MAJOR < spec.minimumNode) {
        // Its imports need a newer Node; CI's Node 24 pass runs it.
        it.skip(`${name} — needs Node ${spec.minimumNode} or newer, this is ${process.versions.node}`, () => {});
        continue;
      }
      it(name, async () => {
        const { code, stderr } = await run(block, spec);
        expect({ code, stderr }, `the block at ${block.readme}:${block.line}`).toEqual({
          code: 0,
          stderr: '',
        });
      });
    }
  }
});
