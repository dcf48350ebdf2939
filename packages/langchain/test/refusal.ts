import { InvalidArgumentError } from '@embedkit/core';
import { expect } from 'vitest';

/** What `promise` rejects with, as an InvalidArgumentError; fails the test when it fulfils. */
export async function refusal(promise: Promise<unknown>): Promise<InvalidArgumentError> {
  const error = await promise.then(
    () => expect.unreachable('the call resolved; it had to be refused'),
    (caught: unknown) => caught,
  );
  expect(InvalidArgumentError.isInstance(error)).toBe(true);
  return error as InvalidArgumentError;
}
