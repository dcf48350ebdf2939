/**
 * A cassette without its `expect` field, read from a file or checked as a value: the message names the
 * field and says what it holds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCassette } from '../src/index.js';
import { readCassette } from '../src/node.js';
import { exchange, OK, recording, thrown } from './helpers.js';

const MESSAGE = 'no expect object (what the call must produce: its embeddings, documents, results or error).';

describe('a cassette without expect', () => {
  const directory = mkdtempSync(join(tmpdir(), 'embedkit-replay-expect-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('is refused by readCassette naming the file and the expect field', () => {
    const file = join(directory, 'no-expect.json');
    const { expect: _left, ...cassette } = recording([exchange({ input: ['x'] }, OK)]);
    writeFileSync(file, JSON.stringify(cassette));
    const error = thrown(() => readCassette(file)) as Record<string, unknown>;
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.code).toBe('invalid_argument');
    expect(error.argument).toBe('cassette');
    expect(error.message).toBe(`${file}: ${MESSAGE}`);
  });

  it.each([
    ['null', null],
    ['a text', 'embeddings'],
  ])('is refused the same way when expect is %s', (_name, value) => {
    const cassette = { ...recording([exchange({ input: ['x'] }, OK)]), expect: value };
    const error = thrown(() => checkCassette(cassette, 'x.json')) as Record<string, unknown>;
    expect(error.name).toBe('InvalidArgumentError');
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe(`x.json: ${MESSAGE}`);
  });
});
