// The bundle and install sizes section of the report, written from what was measured, never by hand:
// runtimes/test/bundle.test.ts records the gzip size of each bundle and its budgets in
// .ci/sizes/bundles.json, and scripts/install-size.mjs records the global install in
// .ci/sizes/install.json (CI runs both). `npm run bench -- --sizes` rewrites only this section.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDirectory } from './clients.mjs';
import { formatNumber, markdownTable, writeSection } from './report.mjs';

export const SIZES_DIRECTORY = join(benchDirectory, '..', '.ci', 'sizes');

const kibibytes = (bytes) => `${formatNumber(bytes / 1024, 1)} KiB`;
const mebibytes = (kib) => `${formatNumber(kib / 1024, 1)} MiB`;

function readRecord(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** The Markdown of the sizes section, from the records in `directory`. */
export function sizesSection(directory = SIZES_DIRECTORY) {
  const bundles = readRecord(join(directory, 'bundles.json'));
  if (bundles?.gzip === undefined || bundles.budgets === undefined) {
    throw new Error(
      `${join(directory, 'bundles.json')} is missing or older than its budgets; run \`npx vitest run test/bundle.test.ts\` in runtimes/ first.`,
    );
  }
  const platforms = [...new Set(Object.keys(bundles.gzip).map((row) => row.split(' ')[0]))];
  const providers = Object.keys(bundles.gzip[`${platforms[0]} embedding`]);
  // The figures are the same on every platform when no bundle differs; a platform that differs gets rows of its own.
  const same = platforms.every((platform) =>
    ['embedding', 'everything'].every(
      (kind) =>
        JSON.stringify(bundles.gzip[`${platform} ${kind}`]) ===
        JSON.stringify(bundles.gzip[`${platforms[0]} ${kind}`]),
    ),
  );
  const rows = (same ? platforms.slice(0, 1) : platforms).flatMap((platform) =>
    providers.map((provider) => [
      same ? `provider-${provider}` : `provider-${provider} (${platform})`,
      kibibytes(bundles.gzip[`${platform} embedding`][provider]),
      kibibytes(bundles.gzip[`${platform} everything`][provider]),
    ]),
  );
  const lines = [
    `## Bundle and install sizes (${bundles.measured})`,
    '',
    `esbuild ${bundles.esbuild}, \`--bundle --minify --format=esm\`, gzip level 9, for ${platforms.map((platform) => `\`--platform=${platform}\``).join(' and ')}${same ? ' (the same figures on each)' : ''}. "embedding" imports \`embed\`, \`embedMany\` and the provider's factory; "everything" re-exports both packages' whole public API. Every bundle has no \`node:\` import, nothing from undici and no warning. Budgets (CI fails above them): ${kibibytes(bundles.budgets.embedding)} embedding and ${kibibytes(bundles.budgets.everything)} everything.`,
    '',
    markdownTable(['core + provider', 'embedding (gzip)', 'everything (gzip)'], rows),
    '',
    'Before: the browser build failed on 118 unresolved `node:` imports from undici; with undici out of the way, core + provider-openai with zod was 106 KB gzip (492 KB raw, zod 444 KB of it).',
    '',
  ];
  const install = readRecord(join(directory, 'install.json'));
  lines.push(
    install === undefined
      ? 'The global install of `@embedkit/cli` and `@embedkit/provider-openai` was not measured for this record: run `node scripts/install-size.mjs`, then `npm run bench -- --sizes`.'
      : `A global install of \`@embedkit/cli\` and \`@embedkit/provider-openai\` from packed tarballs, laid out as the registry would serve them (\`node scripts/install-size.mjs\`, \`du\` of the prefix, ${install.measured}): ${mebibytes(install.kib)}; with the optional \`@embedkit/cache-disk\` (LMDB) beside it, ${mebibytes(install.withCacheDiskKib)}. Budget: ${formatNumber(install.budgetMiB, 0)} MiB.`,
    '',
    'Reproduce: `npx vitest run test/bundle.test.ts` in `runtimes/`, `node scripts/install-size.mjs`, then `npm run bench -- --sizes`.',
  );
  return lines.join('\n');
}

export function sizesRun({ out, log, directory = SIZES_DIRECTORY }) {
  writeSection(out, 'sizes', 'embedkit benchmarks', sizesSection(directory));
  log(`wrote the sizes section of ${out}`);
}
