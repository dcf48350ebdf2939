/**
 * Input types: each one the model declares, sent as the provider's word on every item of every request
 * of a job split over calls; one it lacks is a warning (an error under `strict`) and is not sent: the
 * request is the provider's own when no type is asked (its default, for an API that requires one).
 */
import { strict as assert } from 'node:assert';
import { embedMany, INPUT_TYPES, type InputType } from '@embedkit/core';
import type { Harness } from '../harness.js';
import { rejection } from '../suite/checks.js';
import { type Case, check, type Family, type SkippedCase } from '../suite/family.js';
import type { EmbeddingSuite } from './suite.js';

export const inputTypes: Family<EmbeddingSuite, Harness> = {
  name: 'input-types',
  checks:
    'every declared input type on every item of a split job; an undeclared one warned about and not sent',
  cases: (suite) => {
    const { capabilities, wire } = suite;
    const cases: (Case<Harness> | SkippedCase)[] = capabilities.inputTypes.map((inputType) =>
      check(
        `input-type-${inputType}`,
        `"${inputType}" mapped to the wrong word, or sent on the first call (or item) only`,
        async (world) => {
          const texts = suite.inputs(5, `typed ${inputType}`);
          // The first call's inputs without an input type: the typed call must differ from it, unless the
          // wire reads that request as this very type (an API that requires one, whose provider sends its
          // default when none is asked). Compared with a request of other inputs, the typed call always
          // differed, so a provider that sent nothing for the type passed wherever the wire reads an absent
          // field as another type.
          const split = { maxInputsPerCall: 2 };
          const first = texts.slice(0, suite.plan(texts, split)[0]);
          world.respond(first.length, suite.success());
          await embedMany({ ...suite.settings(world), inputs: first });
          const plain = world.interceptor.requests[0]!.body;
          suite.respondAll(world, texts, suite.success(), split);
          const result = await embedMany({
            ...suite.settings(world),
            inputs: texts,
            inputType,
            ...split,
            concurrency: 1,
          });
          suite.expectVectors(result, texts);
          assert.deepEqual(result.warnings, [], 'no warning for a supported input type');
          const requests = world.interceptor.requests.slice(1);
          if (suite.itemsOf(plain)[0]?.inputType !== inputType)
            assert.notDeepEqual(
              requests[0]!.body,
              plain,
              `the job asking inputType "${inputType}" sent the same first request as the job asking none: the provider sends nothing for "${inputType}" (a word missing from its mapping?), though its capabilities.inputTypes declares it`,
            );
          for (const [call, request] of requests.entries())
            for (const [index, item] of suite.itemsOf(request.body).entries())
              assert.equal(
                item.inputType,
                inputType,
                `call ${call} item ${index}: "${inputType}" is sent as the provider's word`,
              );
        },
      ),
    );
    const unsupported = INPUT_TYPES.find(
      (inputType: InputType) => !capabilities.inputTypes.includes(inputType),
    );
    if (unsupported !== undefined) {
      cases.push(
        check(
          'input-type-unsupported',
          'an input type the model lacks sent anyway, or dropped silently',
          async (world) => {
            // The provider's own request when no input type is asked: an API that requires one gets the
            // provider's default then, which is also what a type the engine leaves out must send.
            world.respond(1, suite.success());
            await embedMany({ ...suite.settings(world), inputs: ['x'] });
            world.respond(1, suite.success());
            const result = await embedMany({
              ...suite.settings(world),
              inputs: ['x'],
              inputType: unsupported,
            });
            assert.equal(
              world.interceptor.requests.length,
              2,
              `the job asking the unsupported input type "${unsupported}" sent no request: the provider answered it without the API (from vectors it kept of the first job's same input?)`,
            );
            const [plain, typed] = world.interceptor.requests.map((request) => request.body);
            const sent = wire.inputTypeOf(typed);
            const unasked = wire.inputTypeOf(plain);
            assert.equal(
              sent,
              unasked,
              `a job asking the unsupported input type "${unsupported}" sent ${sent === undefined ? 'no input type' : `the API's word for "${sent}"`}, where a job asking none sends ${unasked === undefined ? 'none' : `"${unasked}"`}: the type must be left out`,
            );
            assert.deepEqual(typed, plain, 'the request is the one sent when no input type is asked');
            assert.ok(
              result.warnings.some((warning) => warning.setting === 'inputType'),
              'a warning names inputType',
            );
            const error = await rejection(
              embedMany({ ...suite.settings(world), inputs: ['x'], inputType: unsupported, strict: true }),
            );
            assert.equal(error.name, 'InvalidArgumentError');
          },
        ),
      );
    }
    return cases;
  },
};
