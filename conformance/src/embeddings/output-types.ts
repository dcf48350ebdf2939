/**
 * Output types: every quantized type the model declares, asked on every request of a split job and
 * returned as sent: the right typed array, one byte per dimension (bit-packed: dimensions / 8), the
 * exact values, never rescaled or re-normalized.
 */
import { strict as assert } from 'node:assert';
import { embedMany, type OutputType } from '@embedkit/core';
import type { Harness } from '../harness.js';
import { check, type Family, skip } from '../suite/family.js';
import type { EmbeddingSuite } from './suite.js';

export const outputTypes: Family<EmbeddingSuite, Harness> = {
  name: 'output-types',
  checks:
    'every declared quantized type asked on every call and returned exactly as sent, bit-packed at dimensions / 8',
  skip: ({ capabilities, wire }) =>
    capabilities.outputTypes.every((type) => type === 'float')
      ? 'the model returns float vectors only (capabilities.outputTypes)'
      : wire.outputTypeOf === undefined
        ? 'the wire profile cannot read the output type a request asks (outputTypeOf)'
        : undefined,
  cases: (suite) =>
    suite.capabilities.outputTypes
      .filter((type): type is Exclude<OutputType, 'float'> => type !== 'float')
      .map((outputType) => {
        const id = `output-type-${outputType}`;
        const packed = outputType === 'binary' || outputType === 'ubinary';
        if (packed && suite.dims % 8 !== 0)
          return skip(id, `the scenarios' length ${suite.dims} is not a multiple of 8`);
        return check(
          id,
          `${outputType} asked under the wrong word, decoded as another type, cut to the wrong length or rescaled`,
          async (world) => {
            const texts = suite.inputs(5, outputType);
            suite.respondAll(world, texts, suite.success(), { maxInputsPerCall: 2 });
            const result = await embedMany({
              ...suite.settings(world),
              inputs: texts,
              outputType,
              maxInputsPerCall: 2,
            });
            for (const [index, request] of world.interceptor.requests.entries())
              assert.equal(
                suite.wire.outputTypeOf!(request.body),
                outputType,
                `call ${index} asks for ${outputType}`,
              );
            suite.expectVectors(result, texts, suite.dims, outputType);
          },
        );
      }),
};
