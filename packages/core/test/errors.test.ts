import { describe, expect, it, vi } from 'vitest';
import {
  AuthenticationError,
  ConnectionError,
  EmbedKitError,
  type ErrorCode,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  isAbortError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RetryError,
  ServerError,
  TimeoutError,
} from '../src/errors.js';

interface ErrorCase {
  name: string;
  errorClass: { isInstance(value: unknown): boolean };
  make: () => EmbedKitError;
  code: ErrorCode;
  retryable: boolean;
}

const cases: ErrorCase[] = [
  {
    name: 'InvalidArgumentError',
    errorClass: InvalidArgumentError,
    make: () => new InvalidArgumentError('bad'),
    code: 'invalid_argument',
    retryable: false,
  },
  {
    name: 'AuthenticationError',
    errorClass: AuthenticationError,
    make: () => new AuthenticationError('bad'),
    code: 'authentication',
    retryable: false,
  },
  {
    name: 'PermissionDeniedError',
    errorClass: PermissionDeniedError,
    make: () => new PermissionDeniedError('bad'),
    code: 'permission_denied',
    retryable: false,
  },
  {
    name: 'NotFoundError',
    errorClass: NotFoundError,
    make: () => new NotFoundError('bad'),
    code: 'not_found',
    retryable: false,
  },
  {
    name: 'InvalidRequestError',
    errorClass: InvalidRequestError,
    make: () => new InvalidRequestError('bad'),
    code: 'invalid_request',
    retryable: false,
  },
  {
    name: 'RateLimitError',
    errorClass: RateLimitError,
    make: () => new RateLimitError('bad'),
    code: 'rate_limited',
    retryable: true,
  },
  {
    name: 'ServerError',
    errorClass: ServerError,
    make: () => new ServerError('bad'),
    code: 'server_error',
    retryable: true,
  },
  {
    name: 'TimeoutError',
    errorClass: TimeoutError,
    make: () => new TimeoutError('bad'),
    code: 'timeout',
    retryable: true,
  },
  {
    name: 'ConnectionError',
    errorClass: ConnectionError,
    make: () => new ConnectionError('bad'),
    code: 'connection',
    retryable: true,
  },
  {
    name: 'InvalidResponseError',
    errorClass: InvalidResponseError,
    make: () => new InvalidResponseError('bad'),
    code: 'invalid_response',
    retryable: false,
  },
  {
    name: 'RetryError',
    errorClass: RetryError,
    make: () => new RetryError('bad', [new ServerError('a')]),
    code: 'retries_exhausted',
    retryable: false,
  },
];

describe('error classes', () => {
  it.each(cases)(
    '$name has code $code, isRetryable $retryable and its own name',
    ({ name, make, code, retryable }) => {
      const error = make();
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(EmbedKitError);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error.isRetryable).toBe(retryable);
      expect(error.message).toBe('bad');
    },
  );

  it.each(cases)(
    '$name.isInstance is true for its own class and the base, false for every sibling',
    ({ name, make }) => {
      const error = make();
      expect(EmbedKitError.isInstance(error)).toBe(true);
      for (const other of cases) {
        expect(other.errorClass.isInstance(error), `${other.name}.isInstance(new ${name})`).toBe(
          other.name === name,
        );
      }
    },
  );

  it('every code is distinct (codes are the stable public identifiers)', () => {
    expect(new Set(cases.map((entry) => entry.code)).size).toBe(cases.length);
  });

  it('isInstance is false for non-errors, plain errors and look-alikes without the marker', () => {
    for (const value of [
      undefined,
      null,
      0,
      'RateLimitError',
      {},
      new Error('x'),
      { code: 'rate_limited', name: 'RateLimitError' },
    ]) {
      expect(EmbedKitError.isInstance(value)).toBe(false);
      expect(RateLimitError.isInstance(value)).toBe(false);
    }
  });

  it('isInstance recognises an object from another copy of the package by its Symbol.for marker', () => {
    const foreign = {
      [Symbol.for('embedkit.error')]: true,
      [Symbol.for('embedkit.error.RateLimitError')]: true,
      code: 'rate_limited',
    };
    expect(RateLimitError.isInstance(foreign)).toBe(true);
    expect(EmbedKitError.isInstance(foreign)).toBe(true);
    expect(ServerError.isInstance(foreign)).toBe(false);
    expect(foreign instanceof RateLimitError).toBe(false);

    const onlySubclassMarker = { [Symbol.for('embedkit.error.RateLimitError')]: true };
    expect(RateLimitError.isInstance(onlySubclassMarker)).toBe(true);
    // A marker must be exactly `true`, not any truthy value.
    expect(RateLimitError.isInstance({ [Symbol.for('embedkit.error.RateLimitError')]: 1 })).toBe(false);
  });

  it('isInstance works across two separately loaded copies of the errors module', async () => {
    vi.resetModules();
    const copy = await import('../src/errors.js');
    expect(copy.RateLimitError).not.toBe(RateLimitError);
    const fromCopy = new copy.RateLimitError('from the other copy');
    expect(fromCopy instanceof RateLimitError).toBe(false);
    expect(RateLimitError.isInstance(fromCopy)).toBe(true);
    expect(EmbedKitError.isInstance(fromCopy)).toBe(true);
    expect(ServerError.isInstance(fromCopy)).toBe(false);
    expect(copy.ServerError.isInstance(new ServerError('here'))).toBe(true);
    expect(copy.RetryError.isInstance(new ServerError('here'))).toBe(false);
  });
});

describe('error details', () => {
  it('keeps every HTTP detail it is given and the cause', () => {
    const cause = new Error('socket');
    const error = new ServerError('boom', {
      provider: 'acme',
      url: 'https://api.acme.test/v1/embed',
      statusCode: 503,
      requestId: 'req_1',
      retryAfterMs: 1500,
      responseBody: '{"error":"busy"}',
      providerCode: 'overloaded',
      cause,
    });
    expect(error).toMatchObject({
      provider: 'acme',
      url: 'https://api.acme.test/v1/embed',
      statusCode: 503,
      requestId: 'req_1',
      retryAfterMs: 1500,
      responseBody: '{"error":"busy"}',
      providerCode: 'overloaded',
    });
    expect(error.cause).toBe(cause);
  });

  it('leaves absent details undefined and sets no cause', () => {
    const error = new AuthenticationError('no key');
    expect(error.statusCode).toBeUndefined();
    expect(error.retryAfterMs).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('isRetryable can be overridden either way', () => {
    expect(new ServerError('x', { isRetryable: false }).isRetryable).toBe(false);
    expect(new InvalidRequestError('x', { isRetryable: true }).isRetryable).toBe(true);
  });

  it('RateLimitError with quotaExhausted is not retryable; without it, it is', () => {
    const quota = new RateLimitError('quota', { quotaExhausted: true });
    expect(quota.quotaExhausted).toBe(true);
    expect(quota.isRetryable).toBe(false);
    const burst = new RateLimitError('burst');
    expect(burst.quotaExhausted).toBe(false);
    expect(burst.isRetryable).toBe(true);
    // An explicit override still wins.
    expect(new RateLimitError('x', { quotaExhausted: true, isRetryable: true }).isRetryable).toBe(true);
  });

  it('InvalidRequestError carries batchTooLarge (default false) and inputIndex', () => {
    const plain = new InvalidRequestError('x');
    expect(plain.batchTooLarge).toBe(false);
    expect(plain.inputIndex).toBeUndefined();
    const tooLarge = new InvalidRequestError('x', { batchTooLarge: true, inputIndex: 7 });
    expect(tooLarge.batchTooLarge).toBe(true);
    expect(tooLarge.inputIndex).toBe(7);
  });

  it('InvalidArgumentError names the offending argument', () => {
    const error = new InvalidArgumentError('dimensions too large', { argument: 'dimensions' });
    expect(error.argument).toBe('dimensions');
    expect(error.isRetryable).toBe(false);
  });

  it('RetryError carries every attempt, the last error and its HTTP details', () => {
    const first = new ServerError('first', { statusCode: 500 });
    const second = new TimeoutError('second');
    const last = new ServerError('last', {
      provider: 'acme',
      statusCode: 503,
      requestId: 'req_9',
      retryAfterMs: 250,
    });
    const error = new RetryError('gave up', [first, second, last]);
    expect(error.attempts).toBe(3);
    expect(error.errors).toEqual([first, second, last]);
    expect(error.lastError).toBe(last);
    expect(error.cause).toBe(last);
    expect(error.code).toBe('retries_exhausted');
    expect(error.isRetryable).toBe(false);
    expect(error).toMatchObject({ provider: 'acme', statusCode: 503, requestId: 'req_9', retryAfterMs: 250 });
  });

  it('RetryError tolerates a last error that is not an embedkit error', () => {
    const raw = new TypeError('weird');
    // The engine never puts one there; a caller's own list, built without the types, may.
    const error = new RetryError('gave up', [raw] as never);
    expect(error.lastError).toBe(raw);
    expect(error.attempts).toBe(1);
    expect(error.statusCode).toBeUndefined();
  });
});

describe('isAbortError', () => {
  it('recognises DOMException and Error named AbortError only', () => {
    expect(isAbortError(new DOMException('stop', 'AbortError'))).toBe(true);
    const named = new Error('stop');
    named.name = 'AbortError';
    expect(isAbortError(named)).toBe(true);
    const controller = new AbortController();
    controller.abort();
    expect(isAbortError(controller.signal.reason)).toBe(true);
    expect(isAbortError(new DOMException('late', 'TimeoutError'))).toBe(false);
    expect(isAbortError(new TimeoutError('late'))).toBe(false);
    expect(isAbortError(null)).toBe(false);
    expect(isAbortError('AbortError')).toBe(false);
  });
});
