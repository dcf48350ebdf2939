/**
 * A 2xx answer whose body is not JSON: it is described as an error status's body is (markup stripped,
 * the media type named), and a body still in a content encoding that was not decoded names that encoding.
 */
import { describe, expect, it } from 'vitest';
import { InvalidResponseError } from '../src/errors.js';
import { failure } from './http-helpers.js';

const KEY = 'sk-fake-not-a-real-key-abc';
const PROXY_HINT = 'A proxy or gateway between you and the API may be answering instead of it.';

/** The error of a call answered 200 with `body` and `headers`. */
async function answeredWith(body: string | Uint8Array, headers: Record<string, string>) {
  const error = await failure({
    secrets: [KEY],
    fetch: async () => new Response(body, { status: 200, headers }),
  });
  expect(InvalidResponseError.isInstance(error)).toBe(true);
  expect(error.statusCode).toBe(200);
  return error;
}

describe('a 2xx answer whose body is not JSON', () => {
  it('an HTML login page is quoted as its text, without its markup', async () => {
    const page =
      '<!doctype html><html><head><style>body { margin: 0 }</style><script>track()</script></head><body><h1>Sign in</h1><p>to continue</p></body></html>';
    const error = await answeredWith(page, { 'content-type': 'text/html; charset=utf-8' });
    expect(error.message).toBe(
      `acme returned status 200 with a body that is not valid JSON (text/html): Sign in to continue. ${PROXY_HINT}`,
    );
    // The body as it came is still kept for whoever needs it.
    expect(error.responseBody).toBe(page);
  });

  it('a page that is all markup, or an answer with no content type, is described as an error body is', async () => {
    expect((await answeredWith('<html><body></body></html>', { 'content-type': 'text/html' })).message).toBe(
      `acme returned status 200 with a body that is not valid JSON: a text/html body with no text. ${PROXY_HINT}`,
    );
    const untyped = await answeredWith(new TextEncoder().encode('maintenance'), {});
    expect(untyped.message).toBe(
      `acme returned status 200 with a body that is not valid JSON: maintenance. ${PROXY_HINT}`,
    );
  });

  it('the media type is quoted redacted, and its parameters are left out', async () => {
    const error = await answeredWith('<p>maintenance</p>', { 'content-type': `text/${KEY}; echo=${KEY}` });
    expect(error.message).toBe(
      `acme returned status 200 with a body that is not valid JSON (text/[REDACTED]): maintenance. ${PROXY_HINT}`,
    );
  });

  it('a body still in a content encoding that was not decoded (zstd) names the encoding', async () => {
    const zstdFrame = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x51, 0x00);
    const error = await answeredWith(zstdFrame, {
      'content-type': 'application/json',
      'content-encoding': 'zstd',
    });
    expect(error.message).toBe(
      `acme returned status 200 with a body that is not valid JSON: a body in content-encoding zstd, not decoded. ${PROXY_HINT}`,
    );
  });

  it('readable text under a content-encoding header (decoded by the runtime, which keeps the header) is quoted', async () => {
    const error = await answeredWith('{"data": [', {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    // Cut short as it is, the hint says so.
    expect(error.message).toBe(
      `acme returned status 200 with a body that is not valid JSON (application/json): {"data": [. The connection or a proxy cut it short; calling again may help.`,
    );
  });

  it('a page in Latin-1 under an encoding the runtime decodes is quoted, not called undecoded', async () => {
    // "Accès refusé" in Latin-1: its two accented letters are no UTF-8, and read as U+FFFD.
    const page = Uint8Array.from('Accès refusé', (character) => character.charCodeAt(0));
    const error = await answeredWith(page, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
    expect(error.message).toBe(
      `acme returned status 200 with a body that is not valid JSON (text/html): Acc\uFFFDs refus\uFFFD. ${PROXY_HINT}`,
    );
  });
});
