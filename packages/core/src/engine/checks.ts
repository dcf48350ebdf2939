/**
 * The checks every provider's answer must pass, whatever the provider did itself: the engine runs them
 * on every call of every kind of job, so a third-party provider that skips a check is still caught.
 */

import { InvalidResponseError } from '../errors.js';
import type { Embedding, OutputType, ResponseInfo, Usage, Warning } from '../types.js';
import { allFinite, vectorLength } from '../vectors.js';

/** Where an answer came from, for the errors about it. */
export interface AnswerSource {
  provider: string;
  statusCode?: number;
  requestId?: string;
}

export function answerSource(provider: string, response: ResponseInfo | undefined): AnswerSource {
  const where: AnswerSource = { provider };
  if (typeof response?.status === 'number') where.statusCode = response.status;
  if (typeof response?.requestId === 'string') where.requestId = response.requestId;
  return where;
}

const EXPECTED_ARRAY: Record<OutputType, string> = {
  float: 'Float32Array',
  int8: 'Int8Array',
  binary: 'Int8Array',
  uint8: 'Uint8Array',
  ubinary: 'Uint8Array',
};

/** What the vectors of one answer must look like. */
export interface VectorExpectation {
  outputType: OutputType;
  /** Elements per vector (dimensions, or dimensions / 8 for bit-packed types); undefined when the model does not say. */
  length: number | undefined;
  /** The `dimensions` the caller asked for, for messages. */
  dimensions?: number | undefined;
}

/** The expectation for a job: the requested or default dimensions in the output type's elements. */
export function vectorExpectation(
  outputType: OutputType,
  dimensions: number | undefined,
  defaultDimensions: number | undefined,
): VectorExpectation {
  const chosen = dimensions ?? defaultDimensions;
  return {
    outputType,
    length: chosen === undefined ? undefined : vectorLength(outputType, chosen),
    dimensions,
  };
}

/**
 * Checks a list of vectors: the typed array the output type calls for, one length for all (the
 * expected one when known), and, for floats, only finite values. `name(i)` says which vector, for messages.
 */
export function checkVectors(
  where: AnswerSource,
  vectors: readonly unknown[],
  expectation: VectorExpectation,
  name: (index: number) => string,
): asserts vectors is Embedding[] {
  const expectedArray = EXPECTED_ARRAY[expectation.outputType];
  let length = expectation.length;
  for (let index = 0; index < vectors.length; index++) {
    const vector = vectors[index] as Embedding | undefined;
    const actual = (vector as { constructor?: { name?: string } } | undefined)?.constructor?.name;
    if (actual !== expectedArray) {
      throw new InvalidResponseError(
        `${where.provider} returned ${name(index)} as ${actual ?? typeof vector}; ${expectation.outputType} vectors must be ${expectedArray}.`,
        where,
      );
    }
    length ??= vector!.length;
    if (vector!.length !== length) {
      throw new InvalidResponseError(
        `${where.provider} returned ${name(index)} with ${vector!.length} values; expected ${length}${expectation.dimensions === undefined ? '' : ` for dimensions ${expectation.dimensions}`}.`,
        where,
      );
    }
    if (expectedArray === 'Float32Array' && !allFinite(vector as Float32Array)) {
      const position = (vector as Float32Array).findIndex((value) => !Number.isFinite(value));
      throw new InvalidResponseError(
        `${where.provider} returned ${name(index)} holding ${(vector as Float32Array)[position]} at position ${position}, not a finite number.`,
        where,
      );
    }
  }
}

/** Reported usage must be a whole, non-negative token count. */
export function checkUsage(where: AnswerSource, usage: Usage | undefined): void {
  if (usage !== undefined && !(Number.isInteger(usage?.inputTokens) && usage.inputTokens >= 0)) {
    throw new InvalidResponseError(
      `${where.provider} reported usage of ${String(usage?.inputTokens)} tokens, which is not a count.`,
      where,
    );
  }
}

/** An answer's warnings: a list (absent counts as none). */
export function warningsOf(where: AnswerSource, warnings: unknown): Warning[] {
  if (warnings === undefined) return [];
  if (!Array.isArray(warnings)) {
    throw new InvalidResponseError(`${where.provider} returned warnings that are not a list.`, where);
  }
  return warnings as Warning[];
}
