// Completes package-lock.json with the per-platform optional packages (esbuild, rollup, biome, turbo
// binaries for other systems) that a registry mirror without them leaves out. npm then drops them from
// the lockfile, and `npm ci` refuses the result as out of sync. Each added entry carries the version
// its parent asks for and the os / cpu / libc read from its name, as npm itself would record them, so
// `npm ci` skips it here and installs it by version on a machine it fits.
// Run after `npm install`: `node scripts/complete-lockfile.mjs` (it changes nothing when complete).
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = [
  'android',
  'darwin',
  'freebsd',
  'linux',
  'netbsd',
  'openbsd',
  'openharmony',
  'sunos',
  'win32',
  'aix',
  'cygwin',
];
const CPU = ['arm64', 'arm', 'x64', 'ia32', 'loong64', 'mips64el', 'ppc64', 'riscv64', 's390x', 'wasm32'];

/** Reads platform constraints from names such as `cli-linux-arm64-musl`, `rollup-win32-x64-msvc`, `turbo-darwin-64`. */
function platformOf(name) {
  const words = name.split('/').pop().split('-');
  const out = {};
  const os = words.find((word) => OS.includes(word)) ?? (words.includes('windows') ? 'win32' : undefined);
  if (os !== undefined) out.os = [os];
  let cpu = words.find((word) => CPU.includes(word));
  if (cpu === undefined && words.includes('64')) cpu = words.includes('arm64') ? 'arm64' : 'x64';
  if (cpu === undefined && words.includes('gnueabihf')) cpu = 'arm';
  if (cpu !== undefined) out.cpu = [cpu];
  if (words.includes('musl') || words.includes('musleabihf')) out.libc = ['musl'];
  else if (out.os?.[0] === 'linux' && (words.includes('gnu') || words.includes('gnueabihf')))
    out.libc = ['glibc'];
  return out;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path === '' ? '' : `${path}/`;
    const candidates = [`${base}node_modules/${name}`, `node_modules/${name}`];
    if (candidates.some((candidate) => packages[candidate] !== undefined)) continue;
    const platform = platformOf(name);
    if (platform.os === undefined && platform.cpu === undefined) continue; // not a per-platform binary
    const version = /^\d+\.\d+\.\d+/.test(range) ? range : range.replace(/^[\^~=]/, '');
    const record = { version, optional: true, ...platform };
    if (entry.dev) record.dev = true;
    if (entry.devOptional) record.devOptional = true;
    packages[`node_modules/${name}`] = record;
    added++;
  }
}

if (added > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
  );
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(`complete-lockfile: ${added} platform packages added`);
