import { endianness } from 'node:os';
import type { Embedding, OutputType } from '@embedkit/core';

/**
 * NPY format version 1.0 (numpy.lib.format): the 6-byte magic `\x93NUMPY`, version bytes 1 and 0, a
 * little-endian uint16 header length, then a Python dict literal padded with spaces and ended by a
 * newline so that the data starts on a 64-byte boundary.
 */
export const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/**
 * The header is always 128 bytes: room for any shape, so it can be rewritten in place with the row
 * count after every append, and the file stays loadable at every checkpoint.
 */
export const NPY_HEADER_BYTES = 128;

/** The NumPy dtype of a row element for each output type (bit-packed types are bytes). */
export function npyDescr(outputType: OutputType): string {
  if (outputType === 'float') return '<f4';
  if (outputType === 'int8' || outputType === 'binary') return '|i1';
  return '|u1';
}

export function npyHeader(descr: string, rows: number, columns: number): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows}, ${columns}), }`;
  const room = NPY_HEADER_BYTES - 10;
  if (dict.length + 1 > room) throw new Error(`NPY header too long for shape (${rows}, ${columns}).`);
  const header = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  NPY_MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(room, 8);
  header.write(dict, 10, 'latin1');
  header[NPY_HEADER_BYTES - 1] = 0x0a;
  return header;
}

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Where the data starts. */
  dataOffset: number;
}

/** Reads a version 1.0 / 2.0 NPY header. */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 10 || !buffer.subarray(0, 6).equals(NPY_MAGIC))
    throw new Error('not an NPY file (bad magic).');
  const major = buffer[6]!;
  const length = major === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const text = buffer.subarray(start, start + length).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined)
    throw new Error(`bad NPY header: ${text}`);
  return {
    descr,
    fortranOrder: fortran === 'True',
    shape: shape
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map(Number),
    dataOffset: start + length,
  };
}

const BIG_ENDIAN = endianness() === 'BE';

/** The bytes of one row, little-endian whatever the host. */
export function rowBytes(embedding: Embedding): Buffer {
  const bytes = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  if (!BIG_ENDIAN || !(embedding instanceof Float32Array)) return bytes;
  const copy = Buffer.from(bytes);
  copy.swap32();
  return copy;
}
