// Measures what a user gets from `npm i -g @embedkit/cli @embedkit/provider-openai`: packs every package
// the two need, installs the two tarballs globally into a fresh prefix the way the registry would serve
// them (each package's @embedkit dependencies point at their tarballs, so npm nests a copy under each
// global package, as it does for registry installs), checks that the installed command runs, and fails
// when the install is larger than the budget. Then adds the optional disk cache and reports that size too. Usage: node scripts/install-size.mjs [budget MiB, default 15]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const budgetMiB = Number(process.argv[2] ?? 15);
const packages = {
  '@embedkit/core': 'packages/core',
  '@embedkit/replay': 'packages/replay',
  '@embedkit/cache-disk': 'packages/cache-disk',
  '@embedkit/provider-openai': 'packages/provider-openai',
  '@embedkit/cli': 'packages/cli',
};
const work = mkdtempSync(join(tmpdir(), 'embedkit-install-size-'));
const run = (command, args, cwd = work) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

try {
  // 1. Pack each package as `npm publish` would (prepack copies the LICENSE in).
  const tarballs = {};
  for (const [name, directory] of Object.entries(packages)) {
    const [packed] = JSON.parse(
      run('npm', ['pack', '--json', '--pack-destination', work], join(root, directory)),
    );
    tarballs[name] = join(work, packed.filename);
  }
  // 2. Point each tarball's @embedkit dependencies at the other tarballs (the registry would serve them by version).
  for (const [name, tarball] of Object.entries(tarballs)) {
    const unpacked = mkdtempSync(join(work, 'unpack-'));
    run('tar', ['xzf', tarball, '-C', unpacked]);
    const manifestPath = join(unpacked, 'package', 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const dependency of Object.keys(manifest[field] ?? {})) {
        if (tarballs[dependency] !== undefined && field === 'dependencies')
          manifest[field][dependency] = `file:${tarballs[dependency]}`;
      }
    }
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    run('tar', ['czf', tarball, '-C', unpacked, 'package']);
    console.log(`packed ${name}: ${(statSync(tarball).size / 1024).toFixed(0)} KiB`);
  }
  // 3. The global install a user makes, into a fresh prefix.
  const prefix = join(work, 'global');
  const installGlobal = (...packages) =>
    run('npm', [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...packages.map((name) => tarballs[name]),
    ]);
  /** Kibibytes the global prefix takes on disk. */
  const installedKiB = () => Number(run('du', ['-sk', prefix]).split('\t')[0]);
  installGlobal('@embedkit/cli', '@embedkit/provider-openai');
  // 4. It runs: the version, and an embedding replayed from a cassette (no key, no network).
  const bin = join(prefix, 'bin', 'embedkit');
  const version = run(bin, ['--version']).trim();
  const cassettes = join(root, 'packages', 'provider-openai', 'test', 'cassettes');
  const embedReplayed = [
    'embed',
    'The food was delicious and the waiter was friendly.',
    '--model',
    'openai:text-embedding-3-small',
    '--replay',
    cassettes,
  ];
  const summary = run(bin, [...embedReplayed, '--summary']);
  if (!summary.includes('1536 values')) throw new Error(`the installed command did not embed:\n${summary}`);
  // 5. The size: bytes on disk (du), and the largest parts.
  const libraries = join(prefix, 'lib', 'node_modules');
  const kib = installedKiB();
  const parts = run('sh', [
    '-c',
    `du -sk $(find ${libraries} -mindepth 2 -maxdepth 4 -type d -path '*node_modules/*' ! -path '*/node_modules/*/node_modules/*/*') 2>/dev/null | sort -rn | head -8`,
  ]);
  console.log(
    `embedkit ${version}: npm i -g @embedkit/cli @embedkit/provider-openai takes ${(kib / 1024).toFixed(1)} MiB on disk (budget ${budgetMiB} MiB)`,
  );
  console.log(parts.replaceAll(`${libraries}/`, '  ').trimEnd());
  console.log(`installed packages: ${readdirSync(join(libraries, '@embedkit')).join(', ')}`);
  if (kib > budgetMiB * 1024) {
    console.error(`the install is over its budget of ${budgetMiB} MiB`);
    process.exitCode = 1;
  }
  // 6. The disk cache is optional (LMDB's binaries are most of its size): without it `--cache` names the
  // package to install; with it installed beside the CLI, the same command fills the cache.
  const cacheDirectory = join(work, 'vector-cache');
  let refused = '';
  try {
    run(bin, [...embedReplayed, '--cache', cacheDirectory]);
  } catch (error) {
    refused = String(error.stderr);
  }
  if (!refused.includes('npm install --global @embedkit/cache-disk'))
    throw new Error(`--cache without @embedkit/cache-disk did not name the package:\n${refused}`);
  installGlobal('@embedkit/cache-disk');
  run(bin, [...embedReplayed, '--cache', cacheDirectory, '--summary']);
  if (!readdirSync(cacheDirectory).includes('embeddings.mdb'))
    throw new Error('the installed cache was not written');
  const withCache = installedKiB();
  console.log(
    `with the optional disk cache (npm i -g @embedkit/cache-disk): ${(withCache / 1024).toFixed(1)} MiB on disk`,
  );
  // For the record the bench's sizes section is written from (`npm run bench -- --sizes`).
  const record = {
    measured: new Date().toISOString().slice(0, 10),
    version,
    kib,
    withCacheDiskKib: withCache,
    budgetMiB,
  };
  mkdirSync(join(root, '.ci', 'sizes'), { recursive: true });
  writeFileSync(join(root, '.ci', 'sizes', 'install.json'), `${JSON.stringify(record, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
