/**
 * An authorization header quoted as a field (`"authorization": "Basic …"`, a gateway's echo of the request
 * as JSON) keeps its scheme, as one quoted as a header line does (`Authorization: Bearer [REDACTED]`):
 * the scheme says which credential failed, and is no part of it. Everything after it is redacted, and a
 * value with no scheme stays redacted whole.
 */
import { describe, expect, it } from 'vitest';
import { redact } from '../src/http/redact.js';

/** `text` redacted, checked to hold none of `secretParts`. */
function redacted(text: string, ...secretParts: string[]): string {
  const out = redact(text);
  for (const part of secretParts) expect(out).not.toContain(part);
  return out;
}

describe('a quoted authorization field keeps its scheme', () => {
  it('Basic, in a JSON text', () => {
    expect(redacted('{"authorization": "Basic dXNlcjpwYXNz"}', 'dXNl', 'cGFz')).toBe(
      '{"authorization": "Basic [REDACTED]"}',
    );
  });

  it('Bearer, with the name in any letter case and without spaces', () => {
    expect(redacted('{"Authorization":"Bearer sk-test-fake-0123456789abcdef"}', 'sk-test', '0123')).toBe(
      '{"Authorization":"Bearer [REDACTED]"}',
    );
  });

  it('a lowercase scheme, in a proxy-authorization field and in a printed dict', () => {
    expect(redacted('{"proxy_authorization": "basic YWxhZGRpbjpvcGVu"}', 'YWxh')).toBe(
      '{"proxy_authorization": "basic [REDACTED]"}',
    );
    expect(redacted("sent {'authorization': 'Token abc123xyz'} then", 'abc123')).toBe(
      "sent {'authorization': 'Token [REDACTED]'} then",
    );
  });

  it('a JSON-escaped value, and a field inside a JSON text quoted in another', () => {
    expect(
      redacted('{"authorization": "Bearer sk-test-fake\\/ab\\u002Bcd\\"ef"}', 'sk-test', 'ab', 'ef'),
    ).toBe('{"authorization": "Bearer [REDACTED]"}');
    expect(
      redacted('{"echo":"{\\"authorization\\": \\"Basic dXNlcjpvdGhlcg==\\"}","next":1}', 'dXNl', 'b3Ro'),
    ).toBe('{"echo":"{\\"authorization\\": \\"Basic [REDACTED]\\"}","next":1}');
  });

  it('a value cut at the end of the text keeps its scheme and loses the rest', () => {
    expect(redacted('{"authorization": "Bearer sk-test-fake-cut-at-the-e', 'sk-test')).toBe(
      '{"authorization": "Bearer [REDACTED]',
    );
  });
});

describe('a quoted authorization field with no scheme stays redacted whole', () => {
  for (const [name, value] of [
    ['a key alone', 'sk-test-fake-noscheme-0001'],
    ['a key followed by a space only', 'sk-test-fake-trailing-0002 '],
    ['a scheme with nothing after it', 'Bearer '],
    ['a scheme alone', 'Basic'],
    ['a first word that starts with a digit', '0ab1c2d3 e4f5'],
    ['an escaped character right after the space', 'Bearer \\u0073k-test-fake-0003'],
  ] as const)
    it(name, () => {
      expect(redacted(`{"authorization": "${value}", "model": "m"}`, 'sk-test', 'e4f5')).toBe(
        '{"authorization": "[REDACTED]", "model": "m"}',
      );
    });

  it('a credential field of another name keeps no first word', () => {
    expect(redacted('{"password": "Basic dXNlcjpwYXNz", "client_secret": "Bearer abc"}', 'dXNl', 'abc')).toBe(
      '{"password": "[REDACTED]", "client_secret": "[REDACTED]"}',
    );
  });
});
