import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, version } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, RUNTIMES_ROOT } from './harness.js';

/**
 * Browser and edge bundles of core with each provider, as an application's bundler makes them: no
 * `node:` import, nothing from undici, no warning, and a gzip size under budget. `everything` exports
 * the whole public API of both packages (the most an application can pull in); `embedding` is what a
 * typical page imports.
 */
const PROVIDERS = {
  openai: 'createOpenAI',
  voyage: 'createVoyage',
  gemini: 'createGemini',
  jina: 'createJina',
} as const;

/**
 * Gzip budgets in bytes, with room above what was measured when they were set. Both raised when an
 * answer's empty body or JSON null came to be called so, the wrong-shape hint to name where the base URL
 * came from (a setting, a variable by name, or none set), a quoted authorization field to keep its
 * scheme, a cache store to say it answers from a fallback of its own and the cache's cooldown to take a
 * clock, and a stream to remember only its latest warnings (Gemini's measured 57,393 bytes `everything`
 * and 45,891 `embedding`, from 57,153 and 45,667). Before that, both raised when
 * redaction began to find a key escaped at any depth of JSON quoting, an authorization token folded
 * onto a second line and a `ProxyAgent`'s own headers, the one check of float values to quote a JSON
 * number beyond float32 as it was sent, and a wait beyond the retries' reach to be told in days (Gemini's
 * measured 55,300 bytes `everything` and 45,163 `embedding`, from 55,041 and 44,851); then `everything`
 * alone, when a cache store's arguments came to be checked in every store and its unusable entries and
 * unanswered waits to be said, a listwise reranker's job to be refused rather than split, and a
 * contextualized model's limits to follow a job's options: 56,396 `everything`, 45,295 `embedding`.
 * Before that, when the
 * fetch transport began to decompress a body itself in Bun against the size cap, an error status whose body
 * is cut, broken or too large to keep its status and wait, every answer's parts to be checked once for the
 * engine and the cache alike, a token budget to cap each call, a stream to keep its calls going while its
 * consumer holds a result, a refused output type to name the models that return it, and a 2xx error read by
 * the provider's own parser to keep its message: the largest, Gemini's, measured 52,958 bytes `everything`
 * and 43,075 `embedding` (52,062 and 42,261 before).
 * Before that, when a
 * `code=` in a server's text began to be kept readable when it holds a plain code, a URL with a user name
 * or password to be refused on every request and not only as a base URL, `topK` to step aside to its
 * JavaScript loop when the kernels' memory cannot grow (and to place offsets past 2 GiB), a middleware's
 * failed second request to give back only its own admission, `cosineSimilarity` to scale values whose
 * squares leave a double's range, an unknown provider-option key to be named with the key it is a typo
 * of, a batch job's wait to refuse a state it does not know and to say why it gave up, a contextualized
 * answer's chunk texts to be checked, and a server wait the retries cannot reach to end the call with how
 * to wait it out: the largest, Gemini's, measured 51,322 bytes `everything` and 41,481 `embedding`
 * (50,296 and 40,612 before).
 * Before that, when core began to refuse what it had let through to a later TypeError or a wrong answer (a model's declared
 * per-item limits, a limiter store without its methods, a base URL with credentials, a middleware hook
 * that returns no request, a non-finite corpus value), to give a paced turn back for a call never sent, to
 * keep an answer whose settling failed, to admit a middleware's second request on its own, to redact
 * every text a server sends on every path, and the float parser's WebAssembly to read four numbers a step:
 * the largest, Gemini's, measured 50,296 bytes `everything` and 40,612 `embedding` (48,287 and 39,086
 * before).
 * Before that, when every request's headers began to be merged without regard to letter case, every
 * answer to be checked for its response information, the models' tables to be read by their own entries
 * and `checkEmbeddingModel` to take a hint (48,287 and 39,086; 48,090 and 38,900 before). Earlier:
 * `everything` was set at 47 KiB when the fetch transport began to watch the abort signal itself and search and the kernels to
 * stand down when memory is short (Gemini's: 45,335); `embedding` at 38 KiB when a job began to check a
 * model's own input rules before its first call, to hold a model to its first answer's vector length, to
 * admit a model behind middleware to the limiter only when its request leaves, and to leave behind a call
 * that ignores its signal (Gemini's: 37,924).
 */
const BUDGET = { everything: 57 * 1024, embedding: 46 * 1024 };

const PLATFORMS = ['browser', 'neutral'] as const;

const sizes: Record<string, Record<string, number>> = {};

function entry(provider: keyof typeof PROVIDERS, kind: keyof typeof BUDGET): string {
  return kind === 'everything'
    ? `export * from '@embedkit/core';\nexport * from '@embedkit/provider-${provider}';\n`
    : `export { embed, embedMany } from '@embedkit/core';\nexport { ${PROVIDERS[provider]} } from '@embedkit/provider-${provider}';\n`;
}

describe.each(PLATFORMS)('esbuild --platform=%s', (platform) => {
  it.each(Object.keys(PROVIDERS) as (keyof typeof PROVIDERS)[])(
    'core + provider-%s: no node: import, no undici, no warning, under budget',
    async (provider) => {
      for (const kind of Object.keys(BUDGET) as (keyof typeof BUDGET)[]) {
        const result = await build({
          stdin: { contents: entry(provider, kind), resolveDir: RUNTIMES_ROOT, loader: 'js' },
          bundle: true,
          write: false,
          format: 'esm',
          platform,
          minify: true,
          metafile: true,
          logLevel: 'silent',
        });
        expect(result.warnings.map((warning) => warning.text)).toEqual([]);
        const inputs = Object.keys(result.metafile.inputs);
        expect(inputs.filter((path) => path.startsWith('node:') || /[/\\]undici[/\\]/.test(path))).toEqual(
          [],
        );
        const text = result.outputFiles[0]!.text;
        // Any form of import a bundler could leave for a Node built-in.
        expect(text.match(/(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["']node:[^"']+["']/g) ?? []).toEqual(
          [],
        );
        const gzipped = gzipSync(text, { level: 9 }).byteLength;
        const row = `${platform} ${kind}`;
        sizes[row] = { ...sizes[row], [provider]: gzipped };
        expect(gzipped, `${kind} bundle of core + provider-${provider} (${platform})`).toBeLessThan(
          BUDGET[kind],
        );
      }
    },
  );
});

describe('the bundle figures', () => {
  it('are written to .ci/sizes/bundles.json for the record', () => {
    const rows = Object.entries(sizes);
    expect(rows.length).toBe(PLATFORMS.length * Object.keys(BUDGET).length);
    const directory = join(REPOSITORY_ROOT, '.ci', 'sizes');
    mkdirSync(directory, { recursive: true });
    // With its budgets and the bundler's version: the bench's sizes section is written from this record.
    const record = {
      measured: new Date().toISOString().slice(0, 10),
      esbuild: version,
      budgets: BUDGET,
      gzip: sizes,
    };
    writeFileSync(join(directory, 'bundles.json'), `${JSON.stringify(record, null, 2)}\n`);
    for (const [row, values] of rows) {
      console.log(
        `gzip ${row}: ${Object.entries(values)
          .map(([provider, bytes]) => `${provider} ${(bytes / 1024).toFixed(1)} KB`)
          .join(', ')}`,
      );
    }
  });
});
