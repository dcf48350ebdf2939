// Installs the peer clients and Node 24 into bench/.peers (git-ignored) on first use, never into the
// workspace's lockfile: `npm ci` for users and CI stays lean.
//
// The peers are installed by npm running under that Node 24: npm picks, among the versions a range
// allows, one whose `engines` accepts the Node it runs on, so npm under Node 20 would quietly install
// the previous majors of `ai`, `openai` and `@google/genai` (their newest need Node >= 22), not what a
// user installs today.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { peersDirectory } from './clients.mjs';

/** The peer clients, as npm install specs. */
export const PEER_PACKAGES = [
  // The AI SDK's current majors (specification v4, which `toAISDK` implements). They declare Node >= 22,
  // so npm on an older Node would otherwise pick the last major that allows it.
  'ai@7',
  '@ai-sdk/openai@4',
  '@ai-sdk/google@4',
  'openai',
  '@langchain/openai',
  'voyageai',
  '@google/genai',
];

/** The Node the peer run executes on (and installs the peers with). */
const NODE_PACKAGE = 'node@24';

function packageName(spec) {
  const at = spec.lastIndexOf('@');
  return at > 0 ? spec.slice(0, at) : spec;
}

export const NODE24 = join(peersDirectory, 'node_modules', '.bin', 'node');
/** Written once npm under Node 24 installed the peers; an install made before lacks it and is redone. */
const MARKER = join(peersDirectory, 'installed-with.json');

/** Specs not installed, or installed at another major than the one pinned. */
function missing() {
  return PEER_PACKAGES.filter((spec) => {
    const manifest = join(peersDirectory, 'node_modules', packageName(spec), 'package.json');
    if (!existsSync(manifest)) return true;
    const pinned = spec.slice(packageName(spec).length + 1);
    return (
      /^\d+$/.test(pinned) && JSON.parse(readFileSync(manifest, 'utf8')).version.split('.')[0] !== pinned
    );
  });
}

/** The npm CLI script that runs this process (`npm run bench`), or the one beside this Node. */
function npmCli() {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm?.endsWith('.js') && existsSync(fromNpm)) return fromNpm;
  const beside = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(beside)) return beside;
  throw new Error('cannot find the npm CLI to run under Node 24; run the bench through npm (npm run bench)');
}

const INSTALL_FLAGS = ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', peersDirectory];

/** Installs whatever is missing; returns the Node 24 binary and the installed versions. */
export function ensurePeers({ log = console.log } = {}) {
  // An install from before the peers were installed under Node 24 holds previous majors: start over.
  if (existsSync(peersDirectory) && !existsSync(MARKER))
    rmSync(peersDirectory, { recursive: true, force: true });
  mkdirSync(peersDirectory, { recursive: true });
  const manifest = join(peersDirectory, 'package.json');
  if (!existsSync(manifest))
    writeFileSync(manifest, `${JSON.stringify({ name: 'embedkit-bench-peers', private: true }, null, 2)}\n`);
  // Bare specifiers resolve from this file's folder, so `load('ai')` finds bench/.peers/node_modules/ai.
  writeFileSync(join(peersDirectory, 'load.mjs'), 'export const load = (specifier) => import(specifier);\n');
  if (!existsSync(NODE24)) {
    log(`installing ${NODE_PACKAGE} into ${peersDirectory} (first run)`);
    execFileSync('npm', [...INSTALL_FLAGS, NODE_PACKAGE], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const node24Version = execFileSync(NODE24, ['--version'], { encoding: 'utf8' }).trim();
  if (missing().length > 0) {
    log(`installing the peers with npm under Node ${node24Version} (first run): ${PEER_PACKAGES.join(' ')}`);
    execFileSync(NODE24, [npmCli(), ...INSTALL_FLAGS, ...PEER_PACKAGES], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  const still = missing();
  if (still.length > 0) throw new Error(`could not install ${still.join(', ')} into ${peersDirectory}`);
  writeFileSync(MARKER, `${JSON.stringify({ node: node24Version }, null, 2)}\n`);
  const versions = {};
  for (const spec of PEER_PACKAGES) {
    const name = packageName(spec);
    versions[name] = JSON.parse(
      readFileSync(join(peersDirectory, 'node_modules', name, 'package.json'), 'utf8'),
    ).version;
  }
  return { node: NODE24, nodeVersion: node24Version, versions };
}
