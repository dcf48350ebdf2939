import { InvalidRequestError } from '../errors.js';
import type { Usage } from '../types.js';

/** Adds two calls' usage; absent when either reported none (never a partial count). */
export function sumUsage(first: Usage | undefined, second: Usage | undefined): Usage | undefined {
  return first === undefined || second === undefined
    ? undefined
    : { inputTokens: first.inputTokens + second.inputTokens };
}

export interface Bisection<B, R> {
  /** How many items (inputs, documents) the batch holds. */
  size(batch: B): number;
  /** The batch's items before and from `at`. */
  split(batch: B, at: number): [B, B];
  /** One provider call (with its retries). */
  run(batch: B): Promise<R>;
  /** The results of the two halves, in order, as one. */
  merge(first: R, second: R): R;
}

/**
 * Runs a batch; when the API says it is too large (`InvalidRequestError.batchTooLarge`, e.g. over a
 * token budget the estimate missed), runs each half the same way, one after the other, and merges.
 */
export async function runBisecting<B, R>(
  batch: B,
  signal: AbortSignal,
  bisection: Bisection<B, R>,
): Promise<R> {
  try {
    return await bisection.run(batch);
  } catch (error) {
    const size = bisection.size(batch);
    if (signal.aborted || !(InvalidRequestError.isInstance(error) && error.batchTooLarge) || size < 2)
      throw error;
    const [first, second] = bisection.split(batch, Math.ceil(size / 2));
    const head = await runBisecting(first, signal, bisection);
    const tail = await runBisecting(second, signal, bisection);
    return bisection.merge(head, tail);
  }
}

/** Splits a batch of documents at `at`, sharing its counted tokens in proportion. */
export function splitDocuments<B extends { offset: number; documents: D[]; tokens: number }, D>(
  batch: B,
  at: number,
): [B, B] {
  const share = batch.tokens / batch.documents.length;
  return [
    { ...batch, documents: batch.documents.slice(0, at), tokens: share * at },
    {
      ...batch,
      offset: batch.offset + at,
      documents: batch.documents.slice(at),
      tokens: share * (batch.documents.length - at),
    },
  ];
}
