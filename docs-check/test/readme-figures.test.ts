/**
 * Figures the READMEs quote of the code and of what CI measured: the lines of the provider template's
 * test code, counted in its files, and the bundle and install sizes, read from the sizes section of
 * bench/results/latest.md (written from CI's records). Each is held to its source, so that a change to
 * either that leaves the other behind fails here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
/** A README with its line breaks and runs of spaces read as one space, as a reader reads prose. */
const prose = (path: string) => read(path).replaceAll(/\s+/g, ' ');

/**
 * The figures a README states where `pattern` matches (each `(…)` of it a figure), so that a stale one
 * fails as the figure it is, not as a page of prose; undefined when the sentence is gone.
 */
function quoted(path: string, pattern: RegExp): string[] | undefined {
  return pattern.exec(prose(path))?.slice(1);
}

/** The lines of code of a file: comments (`//`, and the lines of a block comment) and blank lines aside. */
function codeLines(path: string): number {
  let inComment = false;
  let count = 0;
  for (const line of read(path)
    .split('\n')
    .map((text) => text.trim())) {
    if (inComment) {
      if (line.includes('*/')) inComment = false;
      continue;
    }
    if (line.startsWith('/*')) {
      inComment = !line.includes('*/');
      continue;
    }
    if (line === '' || line.startsWith('//')) continue;
    count++;
  }
  return count;
}

describe('the provider template’s line counts', () => {
  const wire = codeLines('examples/provider-template/test/lumen-wire.ts');
  const suite = codeLines('examples/provider-template/test/conformance.test.ts');

  it('are counted without comments and blank lines', () => {
    expect(wire).toBeGreaterThan(0);
    expect(suite).toBeGreaterThan(0);
  });

  it('are quoted as they are in the root README', () => {
    expect(quoted('README.md', /passes the suite with (\d+) lines of test code/)).toEqual([
      `${wire + suite}`,
    ]);
    expect(
      quoted(
        'README.md',
        /its wire profile is (\d+) lines of code and its conformance test (\d+), comments and blank lines aside/,
      ),
    ).toEqual([`${wire}`, `${suite}`]);
  });

  it('and in the template’s own README', () => {
    expect(
      quoted(
        'examples/provider-template/README.md',
        /its input limit\)\. (\d+) lines of code, comments and blank lines aside/,
      ),
    ).toEqual([`${wire}`]);
  });
});

const results = read('bench/results/latest.md');
const sizes = results.slice(results.indexOf('<!-- sizes:start -->'), results.indexOf('<!-- sizes:end -->'));

/** The KiB of a cell of the bundle table: its row (`provider-openai`) and column (0 embedding, 1 everything). */
function bundleKiB(row: string, column: number): number {
  const line = sizes.split('\n').find((text) => text.startsWith(`| ${row} |`))!;
  return Number(/([\d.]+) KiB/.exec(line.split('|')[2 + column]!)![1]);
}

/** The MiB the install sentence states: `: 10.8 MiB; with the optional … beside it, 44.7 MiB.` */
const install =
  /prefix, [^)]+\): ([\d.]+) MiB; with the optional `@embedkit\/cache-disk` \(LMDB\) beside it, ([\d.]+) MiB\./.exec(
    sizes.replaceAll(/\s+/g, ' '),
  );
const installMiB = Number(install?.[1]);
const withCacheDiskMiB = Number(install?.[2]);

const TIMES = ['', 'as large as', 'twice', 'three times', 'four times', 'five times', 'six times'];

describe('the sizes the READMEs quote, from the sizes section of bench/results/latest.md', () => {
  it('are found there', () => {
    expect(bundleKiB('provider-openai', 0)).toBeGreaterThan(0);
    expect(installMiB).toBeGreaterThan(0);
    expect(withCacheDiskMiB).toBeGreaterThan(installMiB);
  });

  it('root README: the bundle of embed, embedMany and createOpenAI, to the KiB', () => {
    expect(
      quoted(
        'README.md',
        /`embed`, `embedMany` and `createOpenAI` bundle to about (\d+) KiB minified and gzipped/,
      ),
    ).toEqual([`${Math.round(bundleKiB('provider-openai', 0))}`]);
  });

  it('root README and the CLI’s: the global install of the CLI and one provider, to the MiB', () => {
    const installed = [`${Math.round(installMiB)}`];
    expect(
      quoted(
        'README.md',
        /`npm i -g @embedkit\/cli @embedkit\/provider-openai` \(about (\d+) MiB installed;/,
      ),
    ).toEqual(installed);
    expect(
      quoted('packages/cli/README.md', /The CLI with one provider is about (\d+) MiB installed/),
    ).toEqual(installed);
  });

  it('the CLI’s README: what the disk cache adds, and how many times the rest that is', () => {
    const added = withCacheDiskMiB - installMiB;
    expect(
      quoted('packages/cli/README.md', /about (\d+) MiB more, almost all of it LMDB's native binaries/),
    ).toEqual([`${Math.round(added)}`]);
    expect(
      quoted('packages/cli/README.md', /its native binaries are ([a-z ]+) the size of everything else/),
    ).toEqual([TIMES[Math.round(added / installMiB)]]);
  });
});
