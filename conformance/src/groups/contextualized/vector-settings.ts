/**
 * Contextualized vector settings on every call of a job split over calls: dimensions, every declared
 * input type and quantized output type (returned exactly as sent), and the chunks never cut by the API.
 */
import { strict as assert } from 'node:assert';
import { type EmbedContextualizedSettings, embedContextualized } from '@embedkit/core';
import { type Case, check, type Family, type SkippedCase, skip } from '../../suite/family.js';
import { nothingSent } from './basics.js';
import type { ContextualizedSuite, ContextualizedWorld } from './suite.js';

/** Three documents over calls of at most two, with `extra` settings; resolves with the requests made. */
async function splitJob(
  suite: ContextualizedSuite,
  world: ContextualizedWorld,
  prefix: string,
  extra: Partial<Pick<EmbedContextualizedSettings, 'dimensions' | 'inputType' | 'outputType'>>,
) {
  const documents = suite.documents([2, 1, 2], prefix);
  const split = { maxDocumentsPerCall: Math.min(2, suite.cap), concurrency: 1, ...extra };
  suite.respondAll(world, documents, suite.success(), split);
  const result = await embedContextualized(suite.settings(world, { documents, ...split }));
  suite.expectVectors(result, documents, extra.dimensions ?? suite.dims, extra.outputType);
  return world.interceptor.requests;
}

export const contextualizedVectorSettings: Family<ContextualizedSuite, ContextualizedWorld> = {
  name: 'ctx-vector-settings',
  checks: 'dimensions, every input type and quantized output type on every call; chunks never cut by the API',
  cases: (suite) => {
    const { wire, capabilities } = suite;
    const cases: (Case<ContextualizedWorld> | SkippedCase)[] = [];
    const allowed = capabilities.dimensions;
    if (allowed === undefined) {
      cases.push(skip('ctx-dimensions-honoured', 'the model has a fixed length (capabilities.dimensions)'));
    } else {
      const values = 'min' in allowed ? [allowed.min, allowed.max] : [...allowed];
      const pick =
        values.find((value) => value !== capabilities.defaultDimensions && value <= 4096) ?? values[0]!;
      const invalid = 'min' in allowed ? allowed.max + 1 : Math.max(...allowed) + 1;
      cases.push(
        check('ctx-dimensions-honoured', 'dimensions dropped on some call', async (world) => {
          const requests = await splitJob(suite, world, 'dims', { dimensions: pick });
          for (const [index, request] of requests.entries())
            assert.equal(wire.dimensionsOf(request.body), pick, `call ${index} carries dimensions`);
        }),
        check('ctx-dimensions-invalid', 'a length the model does not allow sent to the API', (world) =>
          nothingSent(suite, world, { documents: [['x']], dimensions: invalid }, 'dimensions'),
        ),
      );
    }
    for (const inputType of capabilities.inputTypes) {
      cases.push(
        check(
          `ctx-input-type-${inputType}`,
          `"${inputType}" mapped to the wrong word or dropped on some call`,
          async (world) => {
            const requests = await splitJob(suite, world, `typed ${inputType}`, { inputType });
            for (const [index, request] of requests.entries()) {
              const sent = wire.inputTypeOf(request.body);
              assert.equal(
                sent,
                inputType,
                `call ${index} of a job asking input type "${inputType}" sent ${sent === undefined ? 'no input type' : `the API's word for "${sent}"`}: the provider maps "${inputType}" to the wrong word or drops it`,
              );
            }
          },
        ),
      );
    }
    const quantized = capabilities.outputTypes.filter((type) => type !== 'float');
    for (const outputType of quantized) {
      const id = `ctx-output-type-${outputType}`;
      if (wire.outputTypeOf === undefined) {
        cases.push(skip(id, 'the wire profile cannot read the output type a request asks (outputTypeOf)'));
        continue;
      }
      cases.push(
        check(
          id,
          `${outputType} asked under the wrong word, decoded as another type or rescaled`,
          async (world) => {
            const requests = await splitJob(suite, world, outputType, { outputType });
            for (const [index, request] of requests.entries())
              assert.equal(
                wire.outputTypeOf!(request.body),
                outputType,
                `call ${index} asks for ${outputType}`,
              );
          },
        ),
      );
    }
    cases.push(
      wire.truncateOf === undefined
        ? skip(
            'ctx-truncate-off',
            'the wire profile cannot read whether a request lets the API cut (truncateOf)',
          )
        : check(
            'ctx-truncate-off',
            "the API's own truncation left on, so a document's chunks are cut silently",
            async (world) => {
              const requests = await splitJob(suite, world, 'truncation', {});
              for (const [index, request] of requests.entries())
                assert.equal(wire.truncateOf!(request.body), false, `call ${index} lets the API cut`);
            },
          ),
    );
    return cases;
  },
};
