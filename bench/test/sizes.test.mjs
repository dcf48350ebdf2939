// The sizes section of the report is written from the measured records, budgets included.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sizesRun, sizesSection } from '../src/sizes.mjs';

let directory;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'embedkit-sizes-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const write = (name, record) => writeFileSync(join(directory, name), JSON.stringify(record));
const gzip = (embedding, everything) => ({
  'browser everything': everything,
  'browser embedding': embedding,
  'neutral everything': everything,
  'neutral embedding': embedding,
});
const bundles = {
  measured: '2027-01-04',
  esbuild: '0.27.7',
  budgets: { everything: 54 * 1024, embedding: 44 * 1024 },
  gzip: gzip({ openai: 38_132, gemini: 43_058 }, { openai: 49_884, gemini: 52_948 }),
};

describe('the sizes section', () => {
  it('states the measured figures and the budgets of the record, and the install when measured', () => {
    write('bundles.json', bundles);
    write('install.json', {
      measured: '2027-01-04',
      version: '0.1.0',
      kib: 7_680,
      withCacheDiskKib: 41_062,
      budgetMiB: 15,
    });
    const section = sizesSection(directory);
    expect(section).toContain('## Bundle and install sizes (2027-01-04)');
    expect(section).toContain('Budgets (CI fails above them): 44.0 KiB embedding and 54.0 KiB everything.');
    expect(section).toContain(
      [
        '| core + provider | embedding (gzip) | everything (gzip) |',
        '| --- | ---: | ---: |',
        '| provider-openai | 37.2 KiB | 48.7 KiB |',
        '| provider-gemini | 42.0 KiB | 51.7 KiB |',
      ].join('\n'),
    );
    expect(section).toContain(
      '`du` of the prefix, 2027-01-04): 7.5 MiB; with the optional `@embedkit/cache-disk` (LMDB) beside it, 40.1 MiB. Budget: 15 MiB.',
    );
  });

  it('gives each platform its rows when their figures differ, and says when the install was not measured', () => {
    write('bundles.json', {
      ...bundles,
      gzip: { ...bundles.gzip, 'neutral embedding': { openai: 38_000, gemini: 43_000 } },
    });
    const section = sizesSection(directory);
    expect(section).toContain('| provider-openai (browser) | 37.2 KiB | 48.7 KiB |');
    expect(section).toContain('| provider-openai (neutral) | 37.1 KiB | 48.7 KiB |');
    expect(section).toContain(
      'The global install of `@embedkit/cli` and `@embedkit/provider-openai` was not measured for this record',
    );
  });

  it('refuses a record without budgets, naming the test that writes it', () => {
    write('bundles.json', bundles.gzip);
    expect(() => sizesSection(directory)).toThrow(
      'is missing or older than its budgets; run `npx vitest run test/bundle.test.ts` in runtimes/ first.',
    );
  });

  it('replaces only its own section of the report', () => {
    write('bundles.json', bundles);
    const out = join(directory, 'latest.md');
    writeFileSync(
      out,
      '# embedkit benchmarks\n\n<!-- decode:start -->\nkept\n<!-- decode:end -->\n<!-- sizes:start -->\n## Bundle and install sizes (2026-12-03)\nBudgets (CI fails above them): 32 KB and 40 KB.\n<!-- sizes:end -->\n',
    );
    sizesRun({ out, log: () => {}, directory });
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('<!-- decode:start -->\nkept\n<!-- decode:end -->');
    expect(text).not.toContain('32 KB and 40 KB');
    expect(text).toContain('<!-- sizes:start -->\n## Bundle and install sizes (2027-01-04)');
  });
});
