import { expect } from 'vitest';

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return promise.then(
    () => expect.unreachable('the call succeeded; it had to fail'),
    (error: unknown) => error as Error & Record<string, unknown>,
  );
}
