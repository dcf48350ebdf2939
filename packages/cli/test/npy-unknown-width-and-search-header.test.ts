import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  contextLengthError,
  indexArgs,
  npyHeaderBytes,
  readCheckpointFile,
  readIndexFile,
  runCli,
  serverAndFiles,
  vectorFor,
} from './helpers.js';

/**
 * A `.npy` of a model whose vector length embedkit does not know (no `--dimensions`): no file states a
 * width before the first row gives it. `search` compares `--model` and `--dimensions` with the index's
 * header before it reads the rest of the file.
 */

/** The bytes of the fake server's vectors of `texts`, at its default length of 8. */
function rows(...texts: string[]): Buffer {
  return Buffer.concat(texts.map((text) => Buffer.from(vectorFor(text, 8).buffer)));
}

describe('a .npy of a model of unknown length', () => {
  let rejecting = false;
  /** A run whose calls are held once they reach the server, and stopped there with Ctrl-C. */
  let interrupted: ChildProcess | undefined;
  let release = () => {};
  const fake = serverAndFiles({
    intercept: () => (rejecting ? contextLengthError(0) : undefined),
    hold: () => {
      if (interrupted === undefined) return undefined;
      interrupted.kill('SIGINT');
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  });
  const { file } = fake;
  const args = (input: string, out: string) => [
    'bulk',
    input,
    '--out',
    out,
    '--model',
    'openai:text-embedding-9',
    '--base-url',
    fake.server.baseURL,
    '-q',
  ];

  it('Ctrl-C before the first row leaves no .npy and says only its checkpoint is saved, and the run resumed writes the rows’ width', async () => {
    const input = file('interrupted.txt', 'item 1\nitem 2\n');
    const out = file('interrupted.npy');
    try {
      const stopped = await runCli(args(input, out), {
        onSpawn: (spawned) => {
          interrupted = spawned;
        },
      });
      expect(stopped.stderr).toBe(
        `embedkit: interrupted. no input is done yet, and ${out} is made with the first one: only its checkpoint ${out}.checkpoint is saved; run the same command again to continue.\n`,
      );
      expect(stopped.code).toBe(130);
    } finally {
      interrupted = undefined;
      release();
    }
    expect(existsSync(out)).toBe(false);
    expect(existsSync(file('interrupted.meta.jsonl'))).toBe(false);
    expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 0, complete: false });

    const resumed = await runCli(args(input, out));
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(readFileSync(out)).toEqual(Buffer.concat([npyHeaderBytes(2, 8), rows('item 1', 'item 2')]));
    expect(readFileSync(file('interrupted.meta.jsonl'), 'utf8')).toBe(
      '{"id":1,"line":1}\n{"id":2,"line":2}\n',
    );
    expect(readCheckpointFile(out)).toMatchObject({ inputsDone: 2, complete: true });
  });

  it('a failure before the first row leaves no .npy and says only its checkpoint is saved, and the run again writes the rows’ width', async () => {
    const input = file('failed.txt', 'item 1\n');
    const out = file('failed.npy');
    rejecting = true;
    const failed = await runCli(args(input, out));
    rejecting = false;
    expect(failed.stderr).toBe(
      `embedkit: error: ${input}:1: the API rejected this input: openai API error 400: Invalid 'input[0]': maximum input length is 8192 tokens. — Check the inputs and options against the model’s capabilities. (HTTP 400)\nno input is done yet, and ${out} is made with the first one: only its checkpoint ${out}.checkpoint is saved; fix or remove that input, then run the same command again to continue.\n`,
    );
    expect(failed.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(file('failed.meta.jsonl'))).toBe(false);

    const again = await runCli(args(input, out));
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(readFileSync(out)).toEqual(Buffer.concat([npyHeaderBytes(1, 8), rows('item 1')]));
    expect(readFileSync(file('failed.meta.jsonl'), 'utf8')).toBe('{"id":1,"line":1}\n');
  });
});

describe('search checks --model and --dimensions against the index header first', () => {
  const fake = serverAndFiles();
  const { file } = fake;

  /** An index of two documents at 4 dimensions, then `damage` done to its bytes. */
  async function damagedIndex(name: string, damage: (bytes: Buffer, vectorsOffset: number) => Buffer) {
    const input = file(`${name}.txt`, 'item 1\nitem 2\n');
    const out = file(`${name}.ekx`);
    const built = await runCli(indexArgs(fake.server, input, out, ['-q']));
    expect(built.code).toBe(0);
    writeFileSync(out, damage(readFileSync(out), readIndexFile(out).vectorsOffset));
    return out;
  }

  it.each([
    [
      'another --model',
      ['--model', 'openai:text-embedding-3-large'],
      (out: string) =>
        `embedkit: error: ${out} was built with openai:text-embedding-3-small; refusing to search it with openai:text-embedding-3-large: vectors of different models are not comparable. Rebuild the index with that model, or drop --model.\n`,
    ],
    [
      'another --dimensions',
      ['--dimensions', '8'],
      (out: string) =>
        `embedkit: error: ${out} holds 4-dimension vectors; refusing to search it with --dimensions 8.\n`,
    ],
  ])('%s is a usage error (exit 2) on an index whose vectors are cut short', async (_, options, message) => {
    const out = await damagedIndex(`cut-${options[0]!.slice(2)}`, (bytes, offset) =>
      bytes.subarray(0, offset + 8),
    );
    const requests = fake.server.requests;
    const refused = await runCli(['search', out, 'item 1', ...options]);
    expect(refused.stderr).toBe(message(out));
    expect(refused.code).toBe(2);
    const plain = await runCli(['search', out, 'item 1']);
    expect(plain.stderr).toBe(
      `embedkit: error: ${out} is truncated: expected 2 vectors of 4 values (32 bytes from byte ${readFileSync(out).length - 8}), but the file is ${readFileSync(out).length} bytes long. Rebuild the index.\n`,
    );
    expect(plain.code).toBe(1);
    expect(fake.server.requests).toBe(requests);
  });

  it('another --model on an index whose header is damaged is still the damage (exit 1)', async () => {
    const out = await damagedIndex('bad-header', (bytes) => {
      const copy = Buffer.from(bytes);
      copy[12] = 0x78;
      return copy;
    });
    const requests = fake.server.requests;
    const refused = await runCli(['search', out, 'item 1', '--model', 'openai:text-embedding-3-large']);
    expect(refused.stderr).toBe(
      `embedkit: error: ${out} is damaged or not an embedkit index: its header is not valid JSON. Rebuild it with "embedkit index".\n`,
    );
    expect(refused.code).toBe(1);
    expect(fake.server.requests).toBe(requests);
  });
});
