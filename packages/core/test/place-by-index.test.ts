import { describe, expect, it } from 'vitest';
import { InvalidResponseError } from '../src/errors.js';
import { inOrder, placeByIndex } from '../src/provider-utils.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as InvalidResponseError).provider).toBe('acme');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('inOrder and placeByIndex', () => {
  const items = (...indices: number[]) => indices.map((index) => ({ index, value: `v${index}` }));

  it('places items by index, whatever order they come in', () => {
    expect(inOrder(items(2, 0, 1), 3, 'vectors', 'acme').map((item) => item.value)).toEqual([
      'v0',
      'v1',
      'v2',
    ]);
  });

  it('refuses a wrong count, an index out of range or not whole, and an index twice, naming them', () => {
    expect(refusal(() => inOrder(items(0, 1), 3, 'vectors', 'acme'))).toBe(
      'acme returned 2 vectors for 3 inputs.',
    );
    expect(refusal(() => inOrder(items(0, 3), 2, 'vectors', 'acme'))).toBe(
      'acme returned vector index 3, out of range for the 2 inputs.',
    );
    for (const bad of [-1, 0.5, Number.NaN]) {
      expect(refusal(() => inOrder(items(0, bad), 2, 'vectors', 'acme'))).toBe(
        `acme returned vector index ${bad}, out of range for the 2 inputs.`,
      );
    }
    expect(refusal(() => inOrder(items(1, 1), 2, 'vectors', 'acme'))).toBe(
      'acme returned vector index 1 twice for the 2 inputs.',
    );
  });

  it('placeByIndex leaves unnamed places empty for the caller to judge, in the words it is given', () => {
    const placed = placeByIndex(items(1), 3, 'chunk', 'the 3 chunks of document 0', 'acme');
    expect(placed).toHaveLength(3);
    expect(placed[1]?.value).toBe('v1');
    expect(placed[0]).toBeUndefined();
    expect(refusal(() => placeByIndex(items(1, 1), 3, 'chunk', 'the 3 chunks of document 0', 'acme'))).toBe(
      'acme returned chunk index 1 twice for the 3 chunks of document 0.',
    );
  });
});
