import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidResponseError } from '../src/errors.js';
import {
  parseResponse,
  readProviderOptions,
  type SafeParser,
  type SchemaIssue,
} from '../src/provider-utils.js';

/** A schema double that always fails with the given issues (zod 4's issue format, as the mini build leaves it). */
function failing(issues: SchemaIssue[]): SafeParser<never> {
  return { safeParse: () => ({ success: false, error: { issues } }) };
}

function optionsMessage(issues: SchemaIssue[]): string {
  try {
    readProviderOptions(failing(issues), 'acme', { acme: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('providerOptions.acme');
    return (error as Error).message;
  }
  throw new Error('readProviderOptions accepted a failing schema');
}

describe('schema issues are written out when the schema left its message generic', () => {
  it.each([
    [
      'a wrong type',
      { code: 'invalid_type', expected: 'string', path: ['user'], message: 'Invalid input' },
      'user: expected string',
    ],
    [
      'a fraction where a whole number belongs',
      { code: 'invalid_type', expected: 'int', path: ['chunkSize'], message: 'Invalid input' },
      'chunkSize: expected a whole number',
    ],
    [
      'an unknown option',
      { code: 'unrecognized_keys', keys: ['taskType'], path: [], message: 'Invalid input' },
      '(root): unknown key "taskType"',
    ],
    [
      'a string under its minimum length',
      {
        code: 'too_small',
        origin: 'string',
        minimum: 1,
        inclusive: true,
        path: ['task'],
        message: 'Invalid input',
      },
      'task: must not be empty',
    ],
    [
      'a list under its minimum length',
      {
        code: 'too_small',
        origin: 'array',
        minimum: 2,
        inclusive: true,
        path: ['documents'],
        message: 'Invalid input',
      },
      'documents: must be at least 2 items',
    ],
    [
      'a number over its maximum',
      {
        code: 'too_big',
        origin: 'number',
        maximum: 8192,
        inclusive: true,
        path: ['maxDocumentLength'],
        message: 'Invalid input',
      },
      'maxDocumentLength: must be at most 8192',
    ],
    [
      'a value outside an enumeration',
      { code: 'invalid_value', values: ['a', 'b'], path: ['mode'], message: 'Invalid input' },
      'mode: expected one of "a", "b"',
    ],
  ])('%s', (_name, issue, expected) => {
    expect(optionsMessage([issue as SchemaIssue])).toBe(`providerOptions.acme is invalid: ${expected}.`);
  });

  it("keeps the schema's own message when it wrote one", () => {
    expect(optionsMessage([{ code: 'custom', path: ['data', 0], message: 'expected an array' }])).toBe(
      'providerOptions.acme is invalid: data.0: expected an array.',
    );
  });

  it('names the first problem of a response of the wrong shape', () => {
    const response = { status: 200, headers: {}, body: {} };
    let error: unknown;
    try {
      parseResponse(
        failing([
          { code: 'invalid_type', expected: 'array', path: ['data'], message: 'Invalid input' },
          { code: 'invalid_type', expected: 'string', path: ['model'], message: 'Invalid input' },
        ]),
        response,
        'acme',
        'embeddings',
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toBe(
      'acme returned an embeddings body of the wrong shape: data: expected array; check that the base URL points at the acme API.',
    );
  });
});
