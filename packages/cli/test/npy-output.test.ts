import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputType } from '@embedkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_FINGERPRINT } from '../src/input-fingerprint.js';
import { BulkOutput, type Checkpoint, type JobKey } from '../src/output.js';
import { temporaryDirectory } from './helpers.js';

// In-process: OpenAI returns float only, so the int8 / uint8 rows of the .npy writer are checked here.
function job(outputType: OutputType): JobKey {
  return {
    provider: 'test',
    model: 'm',
    server: null,
    dimensions: 3,
    inputType: null,
    outputType,
    input: '/x.txt',
    format: 'txt',
    field: 'text',
    idField: 'id',
    includeText: false,
    output: 'npy',
  };
}

describe('the .npy writer', () => {
  const directory = temporaryDirectory();
  afterAll(() => directory.remove());

  it.each([
    ['int8', '|i1', Int8Array.from([-128, 0, 127]), Int8Array.from([5, -5, 1])],
    ['uint8', '|u1', Uint8Array.from([0, 128, 255]), Uint8Array.from([1, 2, 3])],
  ] as const)(
    '%s rows: descr %s, shape updated after each flush, bytes as given',
    async (type, descr, first, second) => {
      const out = join(directory.path, `${type}.npy`);
      const output = await BulkOutput.open({ out, job: job(type) });
      output.add({ line: 1, text: 'a', id: 1, end: 0 }, first);
      await output.flush(EMPTY_FINGERPRINT);
      const header = (bytes: Buffer) =>
        bytes
          .subarray(10, 10 + bytes.readUInt16LE(8))
          .toString('latin1')
          .trimEnd();
      expect(header(readFileSync(out))).toBe(
        `{'descr': '${descr}', 'fortran_order': False, 'shape': (1, 3), }`,
      );
      expect(JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'))).toMatchObject({
        inputsDone: 1,
        lastLine: 1,
        rowLength: 3,
        bytes: { [`${type}.npy`]: 131, [`${type}.meta.jsonl`]: 18 },
      });
      output.add({ line: 4, text: 'b', id: 'x', end: 0, metadata: { k: 1 } }, second);
      await output.finish(EMPTY_FINGERPRINT);
      const bytes = readFileSync(out);
      expect(header(bytes)).toBe(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2, 3), }`);
      expect(bytes.length).toBe(128 + 6);
      expect([...bytes.subarray(128)]).toEqual([
        ...new Uint8Array(first.buffer),
        ...new Uint8Array(second.buffer),
      ]);
      expect(readFileSync(join(directory.path, `${type}.meta.jsonl`), 'utf8')).toBe(
        '{"id":1,"line":1}\n{"id":"x","line":4,"metadata":{"k":1}}\n',
      );
    },
  );

  it.each([
    ['float', 16, '<f4', 16],
    ['int8', 16, '|i1', 16],
    ['binary', 16, '|i1', 2],
    ['ubinary', 1024, '|u1', 128],
  ] as const)(
    'an output of no rows of %s at %i dimensions has the shape its rows would have (bug: a bit per value for packed bits)',
    async (type, dimensions, descr, columns) => {
      const out = join(directory.path, `empty-${type}.npy`);
      const output = await BulkOutput.open({ out, job: { ...job(type), dimensions } });
      await output.finish(EMPTY_FINGERPRINT);
      const bytes = readFileSync(out);
      expect(bytes.length).toBe(128);
      expect(
        bytes
          .subarray(10, 10 + bytes.readUInt16LE(8))
          .toString('latin1')
          .trimEnd(),
      ).toBe(`{'descr': '${descr}', 'fortran_order': False, 'shape': (0, ${columns}), }`);
    },
  );

  it.each(['npy', 'jsonl'] as const)(
    'refuses rows of different lengths in .%s output (bug: .jsonl took ragged rows without a word)',
    async (kind) => {
      const out = join(directory.path, `mixed.${kind}`);
      const output = await BulkOutput.open({ out, job: { ...job('float'), output: kind } });
      output.add({ line: 1, text: 'a', id: 1, end: 0 }, new Float32Array(3));
      expect(() => output.add({ line: 2, text: 'b', id: 2, end: 0 }, new Float32Array(4))).toThrow(
        `the vector of line 2 has 4 values, but the rows before it in ${out} have 3: the API answered with vectors of different lengths.`,
      );
      // The row before it is still written.
      await output.flush(EMPTY_FINGERPRINT);
      expect(JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8'))).toMatchObject({
        inputsDone: 1,
        rowLength: 3,
      });
      await output.close();
    },
  );

  it.runIf(existsSync('/dev/full') && existsSync('/proc/self/fd'))(
    'an output that fails to open closes the files it opened (bug: left to garbage collection, whose warning landed in the error message)',
    async () => {
      const openFiles = () => readdirSync('/proc/self/fd').length;
      const resumed: Checkpoint = {
        version: 2,
        job: job('float'),
        inputsDone: 0,
        lastLine: 0,
        input: EMPTY_FINGERPRINT,
        bytes: { 'full-resumed.npy': 128, 'full-resumed.meta.jsonl': 0 },
        complete: false,
      };
      for (const resume of [undefined, resumed]) {
        const out = join(directory.path, `full-${resume === undefined ? 'new' : 'resumed'}.npy`);
        symlinkSync('/dev/full', out);
        const before = openFiles();
        // The .npy header is written after the file is opened: on /dev/full it fails.
        await expect(
          BulkOutput.open({ out, job: job('float'), ...(resume === undefined ? {} : { resume }) }),
        ).rejects.toThrow(`cannot write ${out}: no space left on the device (ENOSPC).`);
        expect(openFiles()).toBe(before);
      }
    },
  );
});
