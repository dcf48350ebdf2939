/**
 * The provider's own options: each option of its schema with an example value reaches every request
 * of a split job; per-input titles reach their own item on every call; an unknown option is refused
 * before anything is sent (a strict schema, so a typo is not silently ignored).
 */
import { strict as assert } from 'node:assert';
import { type EmbedInput, embedMany } from '@embedkit/core';
import type { Harness } from '../harness.js';
import { rejection } from '../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import type { OptionExample } from '../types.js';
import type { EmbeddingSuite } from './suite.js';

function optionCase(suite: EmbeddingSuite, example: OptionExample): Case<Harness> {
  return check(
    `option-${example.name}`,
    `option ${example.name} dropped, or sent on the first call only`,
    async (world) => {
      const texts = suite.inputs(3, `option ${example.name}`);
      const scale = example.vectors === undefined ? undefined : 2;
      suite.respondAll(world, texts, suite.success(scale === undefined ? {} : { scale }), {
        maxInputsPerCall: 2,
      });
      const result = await embedMany({
        ...suite.settings(world),
        inputs: texts,
        maxInputsPerCall: 2,
        providerOptions: { [suite.provider]: example.options },
      });
      if (example.onWire !== undefined)
        for (const [index, request] of world.interceptor.requests.entries())
          assert.deepEqual(
            example.onWire(request.body),
            example.expected,
            `call ${index} carries ${example.name}`,
          );
      if (example.vectors === 'as-sent') suite.expectScaledVectors(result, texts, 2);
      else suite.expectVectors(result, texts);
    },
  );
}

export const options: Family<EmbeddingSuite, Harness> = {
  name: 'options',
  checks:
    "every option of the provider's schema and per-input titles on every call; an unknown option refused",
  cases: (suite) => {
    const { wire } = suite;
    const cases: (Case<Harness> | SkippedCase)[] = (wire.options ?? []).map((example) =>
      optionCase(suite, example),
    );
    if (wire.options === undefined || wire.options.length === 0)
      cases.push(skip('option-examples', 'the wire profile lists no options with example values (options)'));
    cases.push(
      check(
        'option-unknown-refused',
        'a lenient option schema that ignores a misspelt option',
        async (world) => {
          const error = await rejection(
            embedMany({
              ...suite.settings(world),
              inputs: ['x'],
              providerOptions: { [suite.provider]: { conformanceNoSuchOption: true } },
            }),
          );
          assert.equal(error.name, 'InvalidArgumentError', String(error.message));
          assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
        },
      ),
    );
    const titles = wire.titles;
    if (titles === undefined || wire.itemsOf === undefined) {
      cases.push(
        skip(
          'titles',
          titles === undefined
            ? 'the wire profile declares no per-input titles (titles)'
            : 'the wire profile cannot read a request item by item (itemsOf)',
        ),
      );
    } else {
      cases.push(
        check(
          'titles',
          'a title sent with the wrong input, on the first call only, or dropped',
          async (world) => {
            const texts = suite.inputs(5, 'titled');
            const inputs: EmbedInput[] = texts.map((text, index) =>
              index === texts.length - 1 ? { text } : { text, title: `title of ${text}` },
            );
            suite.respondAll(world, texts, suite.success(), { maxInputsPerCall: 2 });
            const result = await embedMany({
              ...suite.settings(world),
              inputs,
              maxInputsPerCall: 2,
              ...(titles.inputType === undefined ? {} : { inputType: titles.inputType }),
            });
            suite.expectVectors(result, texts);
            const items = suite.allItems(world);
            assert.equal(items.length, texts.length, 'every input sent once');
            for (const item of items) {
              const input = inputs[texts.indexOf(item.text)] as { title?: string };
              assert.equal(item.title ?? undefined, input.title, `the title of "${item.text}"`);
            }
          },
        ),
      );
    }
    return cases;
  },
};
