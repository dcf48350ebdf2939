// Installs the peer clients and Node 24 into bench/.peers (git-ignored) on first use, never into the
// workspace's lockfile: `npm ci` for users and CI stays lean.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peersDirectory } from './clients.mjs';

/** What the peer run needs, as npm install specs. */
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
  'node@24',
];

function packageName(spec) {
  const at = spec.lastIndexOf('@');
  return at > 0 ? spec.slice(0, at) : spec;
}

export const NODE24 = join(peersDirectory, 'node_modules', '.bin', 'node');

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

/** Installs whatever is missing; returns the Node 24 binary and the installed versions. */
export function ensurePeers({ log = console.log } = {}) {
  mkdirSync(peersDirectory, { recursive: true });
  const manifest = join(peersDirectory, 'package.json');
  if (!existsSync(manifest))
    writeFileSync(manifest, `${JSON.stringify({ name: 'embedkit-bench-peers', private: true }, null, 2)}\n`);
  // Bare specifiers resolve from this file's folder, so `load('ai')` finds bench/.peers/node_modules/ai.
  writeFileSync(join(peersDirectory, 'load.mjs'), 'export const load = (specifier) => import(specifier);\n');
  const needed = missing();
  if (needed.length > 0 || !existsSync(NODE24)) {
    log(`installing peers into ${peersDirectory} (first run): ${PEER_PACKAGES.join(' ')}`);
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        '--prefix',
        peersDirectory,
        ...PEER_PACKAGES,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }
  const still = missing();
  if (still.length > 0) throw new Error(`could not install ${still.join(', ')} into ${peersDirectory}`);
  const node24Version = execFileSync(NODE24, ['--version'], { encoding: 'utf8' }).trim();
  const versions = {};
  for (const spec of PEER_PACKAGES) {
    const name = packageName(spec);
    if (name === 'node') continue;
    versions[name] = JSON.parse(
      readFileSync(join(peersDirectory, 'node_modules', name, 'package.json'), 'utf8'),
    ).version;
  }
  return { node: NODE24, nodeVersion: node24Version, versions };
}
