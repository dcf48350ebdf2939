/**
 * Memory ownership: each returned vector owns its memory. A view into one slab per response, into the
 * whole response buffer or into Node's shared Buffer pool keeps all of it alive for as long as the caller
 * keeps one small vector.
 */
import { strict as assert } from 'node:assert';
import { embedMany, type OutputType } from '@embedkit/core';
import type { Harness } from '../harness.js';
import { check, type Family } from '../suite/family.js';
import type { VectorEncoding } from '../types.js';
import type { EmbeddingSuite } from './suite.js';

/** Retaining one vector may retain at most this multiple of its own bytes. */
const MAX_RETAINED = 2;

export const memory: Family<EmbeddingSuite, Harness> = {
  name: 'memory',
  checks:
    'every returned vector owns its buffer (no slab, response or Buffer-pool views), for every output type',
  cases: (suite) => [
    check(
      'vectors-own-their-memory',
      'vectors returned as views into a slab, the response or the Buffer pool',
      async (world) => {
        const forms: [OutputType, boolean][] = suite.capabilities.outputTypes
          .filter((type) => type === 'float' || suite.wire.outputTypeOf !== undefined)
          .map((type) => [type, false]);
        // Floats answered where base64 was asked go through another decoder: it must own its memory too.
        if (suite.wire.encodingOf !== undefined) forms.push(['float', true]);
        for (const [outputType, otherEncoding] of forms) {
          const texts = suite.inputs(Math.min(8, suite.cap), `memory ${outputType} ${otherEncoding}`);
          const encoding = (body: unknown): VectorEncoding | undefined =>
            otherEncoding && suite.wire.encodingOf!(body) === 'base64' ? 'float' : undefined;
          suite.respondAll(world, texts, (request) => {
            const answer = encoding(request.body);
            return suite.success(answer === undefined ? {} : { encoding: answer })(request);
          });
          const result = await embedMany({
            ...suite.settings(world),
            inputs: texts,
            ...(outputType === 'float' ? {} : { outputType }),
          });
          for (const [index, vector] of result.embeddings.entries()) {
            const retained = vector.buffer.byteLength;
            assert.ok(
              retained <= MAX_RETAINED * vector.byteLength,
              `${outputType}${otherEncoding ? ' (floats for base64)' : ''} vector ${index} of ${vector.byteLength} bytes keeps a ${retained}-byte buffer alive`,
            );
          }
        }
      },
    ),
  ],
};
