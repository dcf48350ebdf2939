/**
 * An unknown key of a provider's options is named with the key it is a typo of, by the same rule as an
 * unknown setting: `providerOptions.openai.usr` suggests `user` as `{ dimension }` suggests `dimensions`.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { schema } from '../src/provider.js';
import { readProviderOptions } from '../src/provider-utils.js';
import { refuseUnknownSettings } from '../src/setting-names.js';

const options = schema.strictObject({
  user: schema.optional(schema.string({ minLength: 1 })),
  taskType: schema.optional(schema.string()),
  outputDimensionality: schema.optional(schema.integer({ minimum: 1 })),
});
const KNOWN = { user: true, taskType: true, outputDimensionality: true } as const;

/** The error `readProviderOptions` throws for `given` as the acme provider's options. */
function refusal(given: Record<string, unknown>): InvalidArgumentError {
  try {
    readProviderOptions(options, 'acme', { acme: given });
  } catch (error) {
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    return error as InvalidArgumentError;
  }
  return expect.unreachable('the options were accepted; they had to be refused');
}

/** The key `refuseUnknownSettings` suggests for `name`, or undefined when it suggests none. */
function settingSuggestion(name: string): string | undefined {
  try {
    refuseUnknownSettings({ [name]: 1 }, KNOWN, 'acme');
  } catch (error) {
    return /; did you mean (\w+)\?$/.exec((error as Error).message)?.[1];
  }
  return expect.unreachable('the setting was accepted; it had to be refused');
}

describe('providerOptions: an unknown key', () => {
  it('is named with the key it is a typo of', () => {
    const error = refusal({ usr: 'u' });
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('providerOptions.acme');
    expect(error.message).toBe(
      'providerOptions.acme is invalid: (root): unknown key "usr" (did you mean "user"?).',
    );
  });

  it('is named alone when it is a typo of none', () => {
    const error = refusal({ encoding_format: 'float' });
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('providerOptions.acme is invalid: (root): unknown key "encoding_format".');
  });

  it('is named each with its own suggestion when there are several', () => {
    expect(refusal({ task_type: 'x', outputDimensionalty: 8, encoding_format: 'float' }).message).toBe(
      'providerOptions.acme is invalid: (root): unknown keys "task_type" (did you mean "taskType"?), "outputDimensionalty" (did you mean "outputDimensionality"?), "encoding_format".',
    );
  });

  it.each([
    ['usr'],
    ['User'],
    ['tasktype'],
    ['task_type'],
    ['outputDimensionalty'],
    ['encoding_format'],
    ['x'],
  ])('suggests for %s what an unknown setting of that name gets', (name) => {
    const suggested = /"[^"]+" \(did you mean "([^"]+)"\?\)/.exec(refusal({ [name]: 1 }).message)?.[1];
    expect(suggested).toBe(settingSuggestion(name));
  });
});
