/**
 * The lists the unions `InputType`, `OutputType` and `Modality` are made of are exported from the public
 * entry and the provider entry, so that a command line or a provider offering every choice reads core's
 * list rather than a copy that falls behind when a type is added.
 */
import { describe, expect, it } from 'vitest';
import * as core from '../src/index.js';
import * as provider from '../src/provider.js';

describe('the lists of every input type, output type and modality', () => {
  it.each([
    ['@embedkit/core', core],
    ['@embedkit/core/provider', provider],
  ] as const)('%s exports each, in its stable order', (_entry, entry) => {
    const lists = entry as unknown as Record<string, unknown>;
    expect(lists.OUTPUT_TYPES).toEqual(['float', 'int8', 'uint8', 'binary', 'ubinary']);
    expect(lists.MODALITIES).toEqual(['text', 'image']);
    expect(lists.INPUT_TYPES).toHaveLength(9);
  });
});
