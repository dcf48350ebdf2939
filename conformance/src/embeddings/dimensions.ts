/**
 * Dimensions: the minimum, the maximum, every listed value and the default, each on every item of a
 * job split over calls, with vectors of that length; a value the model does not allow is refused before
 * anything is sent.
 */
import { strict as assert } from 'node:assert';
import { embedMany } from '@embedkit/core';
import type { Harness } from '../harness.js';
import { rejection } from '../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import { type EmbeddingSuite, lengthAllowed } from './suite.js';

/** A job of three inputs over calls of two, asking `dimensions` (or none): every item must carry it. */
async function splitJob(
  suite: EmbeddingSuite,
  world: Harness,
  dimensions: number | undefined,
  expected: number,
) {
  const texts = suite.inputs(3, `dims ${dimensions ?? 'default'}`);
  suite.respondAll(world, texts, suite.success(), { maxInputsPerCall: 2 });
  const { dimensions: _chosen, ...settings } = suite.settings(world, { maxInputsPerCall: 2 });
  // What the requests asked is checked first: a wrong length asked is why vectors come back wrong.
  const outcome = await embedMany({
    ...settings,
    inputs: texts,
    ...(dimensions === undefined ? {} : { dimensions }),
  }).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  // Asking the model's default length may leave the field out, as asking none may: the API answers it.
  const defaultLength = suite.capabilities.defaultDimensions;
  for (const [index, item] of suite.allItems(world).entries()) {
    if (dimensions === undefined)
      assert.ok(
        item.dimensions === undefined || item.dimensions === expected,
        `item ${index} asks ${item.dimensions} dimensions though none (or the default ${expected}) was asked`,
      );
    else if (!(item.dimensions === undefined && dimensions === defaultLength))
      assert.equal(
        item.dimensions,
        dimensions,
        item.dimensions === undefined
          ? `item ${index} carries no dimensions though ${dimensions} was asked${defaultLength === undefined ? '' : ` (the default is ${defaultLength})`}`
          : `item ${index} asks ${item.dimensions} dimensions, not the ${dimensions} asked`,
      );
  }
  if ('error' in outcome) throw outcome.error;
  suite.expectVectors(outcome.result, texts, expected);
}

/** Refused with an InvalidArgumentError naming `dimensions`, before any request. */
async function refused(suite: EmbeddingSuite, world: Harness, dimensions: number) {
  const error = await rejection(embedMany({ ...suite.settings(world), inputs: ['x'], dimensions }));
  assert.equal(error.name, 'InvalidArgumentError', `dimensions ${dimensions}: ${error.message}`);
  assert.equal(error.code, 'invalid_argument');
  assert.equal(world.interceptor.requests.length, 0, `dimensions ${dimensions}: nothing was sent`);
}

/** Describes a set of lengths: `1 to 1536`, or `256, 512, 1024`. */
function describeLengths(lengths: { min: number; max: number } | readonly number[]): string {
  return 'min' in lengths ? `${lengths.min} to ${lengths.max}` : lengths.join(', ');
}

/** The model's declared lengths held to the API's, as the wire states them. */
function declaredDimensions(suite: EmbeddingSuite): Case<Harness> | SkippedCase {
  const lengths = suite.wire.vectorLengths;
  if (lengths === undefined)
    return skip(
      'declared-dimensions',
      'the wire profile states no vector lengths for the model (vectorLengths)',
    );
  return check(
    'declared-dimensions',
    'a default length or a range of lengths the API does not have, so calls ask what it refuses or vectors come back another length',
    async () => {
      const { defaultDimensions, dimensions: declared } = suite.capabilities;
      if (defaultDimensions !== undefined)
        assert.equal(
          defaultDimensions,
          lengths.default,
          `defaultDimensions ${defaultDimensions}: the API answers ${lengths.default} values when no length is asked`,
        );
      if (declared === undefined) return;
      const { allowed } = lengths;
      assert.ok(
        allowed !== undefined,
        `the model declares dimensions ${describeLengths(declared)}, but the API takes none for it`,
      );
      const takes = (length: number) => lengthAllowed(allowed, length);
      const inside =
        'min' in declared
          ? 'min' in allowed
            ? declared.min >= allowed.min && declared.max <= allowed.max
            : declared.min === declared.max && takes(declared.min)
          : declared.every(takes);
      assert.ok(
        inside,
        `the model declares dimensions ${describeLengths(declared)}; the API takes ${describeLengths(allowed)}`,
      );
    },
  );
}

export const dimensions: Family<EmbeddingSuite, Harness> = {
  name: 'dimensions',
  checks:
    'minimum, maximum, listed and default lengths on every item of a split job; disallowed ones refused',
  cases: (suite) => {
    const { capabilities } = suite;
    const allowed = capabilities.dimensions;
    if (allowed === undefined) {
      return [
        declaredDimensions(suite),
        check('dimensions-unsupported', 'dimensions sent to a model of fixed length', async (world) => {
          await refused(suite, world, 64);
        }),
        check(
          'dimensions-not-sent',
          'a length sent to a model of fixed length, which the API refuses, when none was asked',
          async (world) => {
            const texts = suite.inputs(2, 'fixed length');
            suite.respondAll(world, texts, suite.success());
            const result = await embedMany({ ...suite.settings(world), inputs: texts });
            for (const [index, request] of world.interceptor.requests.entries())
              assert.equal(
                suite.wire.dimensionsOf(request.body),
                undefined,
                `request ${index} names no length`,
              );
            suite.expectVectors(result, texts);
          },
        ),
      ];
    }
    const values = 'min' in allowed ? [allowed.min, allowed.max] : [...allowed].sort((a, b) => a - b);
    const smallest = values[0]!;
    const largest = values[values.length - 1]!;
    const pick =
      values.find((value) => value !== capabilities.defaultDimensions && value <= 4096) ?? smallest;
    const cases: (Case<Harness> | SkippedCase)[] = [
      declaredDimensions(suite),
      check(
        'dimensions-honoured',
        'dimensions never sent, so the API answers its default length',
        async (world) => {
          await splitJob(suite, world, pick, pick);
        },
      ),
      check('dimensions-min', 'the smallest length dropped or raised', async (world) => {
        await splitJob(suite, world, smallest, smallest);
      }),
      check('dimensions-max', 'the largest length clamped to a smaller one', async (world) => {
        await splitJob(suite, world, largest, largest);
      }),
    ];
    if (!('min' in allowed) && values.length > 2) {
      cases.push(
        check('dimensions-each-listed', 'a listed length mapped to another one', async (world) => {
          for (const value of values.slice(1, -1)) {
            await splitJob(suite, world, value, value);
            world.interceptor.requests.length = 0;
          }
        }),
      );
    }
    cases.push(
      capabilities.defaultDimensions === undefined
        ? skip('dimensions-default', 'the model declares no defaultDimensions')
        : check(
            'dimensions-default',
            'a length sent though none was asked, or the default misdeclared',
            async (world) => {
              await splitJob(suite, world, undefined, capabilities.defaultDimensions!);
            },
          ),
      check('dimensions-invalid', 'a length the model does not allow sent to the API', async (world) => {
        const invalid =
          'min' in allowed
            ? [allowed.max + 1, allowed.min - 1, allowed.min + 0.5]
            : [largest + 1, smallest + 1 === values[1] ? smallest - 1 : smallest + 1];
        for (const value of invalid) await refused(suite, world, value);
      }),
    );
    return cases;
  },
};
