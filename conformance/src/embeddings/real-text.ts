/**
 * Inputs as real text has them, each sent byte for byte and answered with its own vector: no trimming,
 * no newline "cleaning", no Unicode normalization, no silent cutting near the token limit.
 */
import { strict as assert } from 'node:assert';
import { embedMany } from '@embedkit/core';
import type { Harness } from '../harness.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import type { EmbeddingSuite } from './suite.js';

/** A long input whose every word differs, so a cut anywhere shows; `bytes` long. */
function longText(bytes: number): string {
  let text = '';
  for (let word = 0; text.length < bytes; word++) text += `word${word} `;
  return `${text.slice(0, bytes - 4)}end.`;
}

const TEXTS: [id: string, catches: string, text: string][] = [
  [
    'text-newlines',
    'newlines replaced by spaces (an old embedding tip)',
    'first line\nsecond line\n\nfourth line',
  ],
  ['text-crlf', 'CRLF line ends rewritten', 'a Windows file\r\nwith CRLF\r\nline ends'],
  ['text-tabs', 'tabs collapsed or expanded', 'name\tage\t\tcity\tAda\t36\tLondon'],
  [
    'text-emoji',
    'astral characters mangled (a surrogate pair split or dropped)',
    'pets 🐶🐱🦜 and math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 — 👩‍👩‍👧',
  ],
  [
    'text-combining-marks',
    'Unicode normalized, so e + U+0301 arrives as é',
    'cafe\u0301 vs caf\u00e9; n\u0303; Z\u0351\u0330algo',
  ],
  [
    'text-rtl',
    'right-to-left text or its bidi marks altered',
    'שלום עולם — مرحبا بالعالم \u200fsome LTR\u200e',
  ],
  ['text-whitespace', 'inputs trimmed', '   leading and trailing whitespace   '],
];

/** A job of the special text and a plain one: both sent exactly, each answered with its own vector. */
async function sentExactly(suite: EmbeddingSuite, world: Harness, text: string) {
  const texts = [text, 'a plain companion input'];
  suite.respondAll(world, texts, suite.success());
  const result = await embedMany({ ...suite.settings(world), inputs: texts });
  const sent = suite.allItems(world).map((item) => item.text);
  assert.equal(sent.length, texts.length, 'each input sent once');
  assert.ok(
    sent.includes(text),
    `the input arrived altered: ${JSON.stringify(sent.find((item) => item !== texts[1])?.slice(0, 80))}`,
  );
  suite.expectVectors(result, texts);
}

export const realText: Family<EmbeddingSuite, Harness> = {
  name: 'real-text',
  checks:
    'newlines, tabs, CRLF, emoji, combining marks, RTL, edge whitespace and near-limit inputs sent byte for byte',
  cases: (suite) => {
    const cases: (Case<Harness> | SkippedCase)[] = TEXTS.map(([id, catches, text]) =>
      check(id, catches, (world) => sentExactly(suite, world, text)),
    );
    const limit = suite.capabilities.maxTokensPerInput;
    cases.push(
      limit === undefined
        ? skip('text-near-token-limit', 'the model declares no maxTokensPerInput')
        : check(
            'text-near-token-limit',
            'long inputs cut on the client before the API sees them, or the API allowed to cut them though truncate was not asked',
            async (world) => {
              // About four bytes a token in English: just under the model's context.
              await sentExactly(suite, world, longText(Math.max(64, limit * 4 - 64)));
              // An input within the limit is the API's to take whole: letting it cut one that looks long
              // ("to be safe") cuts it silently wherever the provider's count and the API's differ.
              const truncateOf = suite.wire.truncateOf;
              if (truncateOf !== undefined)
                for (const [index, request] of world.interceptor.requests.entries())
                  assert.equal(
                    truncateOf(request.body),
                    false,
                    `call ${index}, of an input near the token limit, lets the API cut its inputs though truncate was not asked`,
                  );
            },
          ),
    );
    return cases;
  },
};
