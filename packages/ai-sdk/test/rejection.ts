import { APICallError } from '@ai-sdk/provider';
import { InvalidArgumentError } from '@embedkit/core';
import { expect } from 'vitest';

/** The `InvalidArgumentError` `make` throws; fails the test when it returns or throws anything else. */
export function thrownInvalidArgument(make: () => unknown): InvalidArgumentError {
  try {
    make();
  } catch (error) {
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    return error as InvalidArgumentError;
  }
  return expect.unreachable('it was accepted; it had to be refused');
}

/** An AI SDK `APICallError` from acme's embed endpoint; `fields` replaces any of its fields. */
export function apiCallError(fields: Partial<ConstructorParameters<typeof APICallError>[0]>): APICallError {
  return new APICallError({
    message: 'acme says no',
    url: 'https://api.acme.example/v1/embed',
    requestBodyValues: { texts: ['x'] },
    ...fields,
  });
}
