/**
 * The checks every provider's answer must pass, whatever the provider did itself: the engine runs them
 * on every call of every kind of job, so a third-party provider that skips a check is still caught.
 */

import { InvalidResponseError } from '../errors.js';
import type { Embedding, OutputType, ResponseInfo, Usage, Warning } from '../types.js';
import { describeAnswerValue, nonFiniteValue, vectorLength } from '../vectors.js';

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
  /**
   * Set when `length` was not known before the job and was read from its first answer: every later
   * answer must match it (a server whose model changed mid-job, or a cache holding an old model's
   * vectors, would otherwise hand back vectors of two lengths in one result).
   */
  observed?: boolean;
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
 * What is wrong with one vector against `expectation` (the typed array its output type calls for, `length`
 * elements, and, for floats, only finite values), or undefined when nothing is. `name(index)` says which
 * vector; it is called only for a message.
 */
export function vectorProblem(
  provider: string,
  vector: unknown,
  expectation: VectorExpectation,
  length: number | undefined,
  index: number,
  name: (index: number) => string,
): string | undefined {
  const expectedArray = EXPECTED_ARRAY[expectation.outputType];
  const actual = (vector as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  if (actual !== expectedArray) {
    return `${provider} returned ${name(index)} as ${actual ?? typeof vector}; ${expectation.outputType} vectors must be ${expectedArray}.`;
  }
  const values = vector as Embedding;
  if (length !== undefined && values.length !== length) {
    const why =
      expectation.dimensions !== undefined
        ? ` for dimensions ${expectation.dimensions}`
        : expectation.observed === true && length === expectation.length
          ? ', the length of the vectors it returned earlier in this job'
          : '';
    return `${provider} returned ${name(index)} with ${values.length} values; expected ${length}${why}.`;
  }
  if (expectedArray !== 'Float32Array') return undefined;
  const found = nonFiniteValue(values as Float32Array);
  return found === undefined
    ? undefined
    : `${provider} returned ${name(index)} holding ${found}, not a finite number.`;
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
  let length = expectation.length;
  for (let index = 0; index < vectors.length; index++) {
    const problem = vectorProblem(where.provider, vectors[index], expectation, length, index, name);
    if (problem !== undefined) throw new InvalidResponseError(problem, where);
    length ??= (vectors[index] as Embedding).length;
  }
}

/**
 * Fixes the job's vector length from an answer that passed its checks, when the model did not state one:
 * the job's later answers are then held to it.
 */
export function observeLength(expectation: VectorExpectation, vectors: readonly Embedding[]): void {
  if (expectation.length !== undefined || vectors.length === 0) return;
  expectation.length = vectors[0]!.length;
  expectation.observed = true;
}

/** `count` and its noun, plural unless the count is 1: `1 vector`, `0 vectors`. */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * What an answer whose items do not number those sent says, the one wording for every job, the cache,
 * `inOrder` and a provider's own count check (exported from `@embedkit/core/provider`):
 * `acme returned 1 vector for 2 inputs.`, `acme returned no vectors for 1 input.`, with `note` before the end.
 */
export function countMismatch(
  provider: string,
  answered: unknown,
  sent: number,
  item: string,
  per: string,
  note = '',
): string {
  const got = Array.isArray(answered) ? counted(answered.length, item) : `no ${item}s`;
  return `${provider} returned ${got} for ${counted(sent, per)}${note}.`;
}

/**
 * Checks an embedding answer to a call of `count` inputs: one vector per input, each as `checkVectors`
 * wants it. The engine runs it on every call, and so does the cache before it stores an answer. `inputs`
 * names the call's inputs by their place in the job, for a count that does not match (` (inputs 3 to 5 of
 * the whole job)`).
 */
export function checkEmbeddings(
  where: AnswerSource,
  embeddings: unknown,
  count: number,
  expectation: VectorExpectation,
  name: (index: number) => string,
  inputs = '',
): asserts embeddings is Embedding[] {
  if (!Array.isArray(embeddings) || embeddings.length !== count) {
    throw new InvalidResponseError(
      countMismatch(where.provider, embeddings, count, 'vector', 'input', inputs),
      where,
    );
  }
  checkVectors(where, embeddings, expectation, name);
}

/** What is wrong with reported usage (it must be a whole, non-negative token count), or undefined. */
function usageProblem(provider: string, usage: Usage | undefined): string | undefined {
  if (usage === undefined || (Number.isInteger(usage?.inputTokens) && usage.inputTokens >= 0))
    return undefined;
  const tokens = usage?.inputTokens;
  return tokens === undefined
    ? `${provider} reported usage with no token count.`
    : `${provider} reported usage of ${describeAnswerValue(tokens)} tokens, which is not a count.`;
}

/** Reported usage must be a whole, non-negative token count. */
export function checkUsage(where: AnswerSource, usage: Usage | undefined): void {
  const problem = usageProblem(where.provider, usage);
  if (problem !== undefined) throw new InvalidResponseError(problem, where);
}

/**
 * What is wrong with an answer's response information, which every result hands on (`response`,
 * `responses`): it must be an object with the HTTP status and the headers. A provider that leaves it out
 * would give callers `undefined` where the contract promises it.
 */
function responseProblem(provider: string, response: unknown): string | undefined {
  const info = response as Partial<ResponseInfo> | null | undefined;
  const problem =
    typeof info !== 'object' || info === null
      ? 'no response information (status and headers)'
      : !Number.isInteger(info.status)
        ? `response information without an HTTP status (its status: ${describeAnswerValue(info.status)})`
        : typeof info.headers !== 'object' || info.headers === null
          ? 'response information without headers'
          : undefined;
  return problem === undefined ? undefined : `${provider} returned ${problem}.`;
}

/** The parts every kind of answer has, whatever its values (vectors, scores) are. */
export interface AnswerParts {
  response?: unknown;
  usage?: Usage | undefined;
  warnings?: unknown;
}

/**
 * What is wrong with the parts every answer has (its response information, its usage and its warnings, in
 * that order), or undefined when nothing is. The engine refuses an answer for it on every call, and the
 * cache stores no vector of an answer it finds fault with: stored, the vectors would be served again to
 * later calls with their inputs, which then succeed where the model's own answer fails.
 */
export function answerProblem(provider: string, answer: AnswerParts): string | undefined {
  return (
    responseProblem(provider, answer.response) ??
    usageProblem(provider, answer.usage) ??
    (answer.warnings === undefined || Array.isArray(answer.warnings)
      ? undefined
      : `${provider} returned warnings that are not a list.`)
  );
}

/** Refuses an answer `answerProblem` finds fault with; answers its warnings (absent counts as none). */
export function checkAnswer(where: AnswerSource, answer: AnswerParts): Warning[] {
  const problem = answerProblem(where.provider, answer);
  if (problem !== undefined) throw new InvalidResponseError(problem, where);
  return (answer.warnings ?? []) as Warning[];
}
