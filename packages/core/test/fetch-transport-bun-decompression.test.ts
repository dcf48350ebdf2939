/**
 * The fetch transport in Bun: the runtime's own `fetch` is asked for the body as sent (`decompress:
 * false`) and the transport decompresses it as it reads, counting the decompressed bytes against
 * `maxResponseBytes`. Bun is stood in for by a global `Bun` and a global `fetch` double; Node's
 * `DecompressionStream` does the decompressing (gzip and deflate: the formats Node 20's stream takes).
 */
import { constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidResponseError, ServerError } from '../src/errors.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { ResponseTooLargeError, type TransportRequest } from '../src/http/transport.js';
import { rejectionOf } from './helpers.js';
import { acmeRequest, recordingFetch, URL_BASE } from './http-helpers.js';

const GOOD = JSON.stringify({ data: [{ index: 0, embedding: [0.5] }], pad: 'z'.repeat(3_000) });
/** A gzip body whose header is sound and whose compressed data is not. */
const CORRUPT_GZIP = gzipSync(GOOD);
for (let index = 20; index < 60; index++) CORRUPT_GZIP[index]! ^= 0x5a;
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** 1 MiB of spaces as raw deflate ending in a full flush: copies of it one after another stay valid deflate. */
const BLOCK = deflateRawSync(Buffer.alloc(1024 * 1024, 0x20), { finishFlush: constants.Z_FULL_FLUSH });

/** A gzip header and `blocks` copies of BLOCK: some `blocks` KB that inflate to `blocks` MiB. */
function gzipBomb(blocks: number): Buffer {
  return Buffer.concat([GZIP_HEADER, ...Array.from({ length: blocks }, () => BLOCK)]);
}

/** Runs the test as in Bun: a global `Bun`, and `fetch` answering with `answer()`. */
function inBun(answer: () => Response) {
  vi.stubGlobal('Bun', {});
  const recorded = recordingFetch(answer);
  vi.stubGlobal('fetch', recorded.fetch);
  return recorded.sent;
}

function request(maxResponseBytes = 1_000_000): TransportRequest {
  return { url: URL_BASE, method: 'POST', headers: { authorization: 'Bearer x' }, maxResponseBytes };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the fetch transport in Bun', () => {
  it('asks the default fetch for the body as sent, offers gzip and br, and decompresses a gzip answer itself', async () => {
    const sent = inBun(
      () => new Response(gzipSync(GOOD), { headers: { 'content-encoding': 'gzip', 'content-length': '90' } }),
    );
    const response = await acmeRequest(createFetchTransport(), URL_BASE);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(JSON.parse(GOOD));
    expect(sent).toHaveLength(1);
    expect((sent[0]!.init as { decompress?: boolean }).decompress).toBe(false);
    expect(sent[0]!.init.headers).toMatchObject({
      'accept-encoding': 'gzip, br',
      authorization: 'Bearer sk-fake-not-a-real-key-abc',
    });
  });

  it('decompresses a deflate answer whatever the letter case of its Content-Encoding', async () => {
    inBun(() => new Response(deflateSync(GOOD), { headers: { 'content-encoding': 'Deflate' } }));
    const response = await createFetchTransport().request(request());
    expect(new TextDecoder().decode(response.body)).toBe(GOOD);
    expect(response.headers['content-encoding']).toBe('Deflate');
  });

  it('counts the decompressed bytes against maxResponseBytes: 200 KB of gzip that inflate to 200 MiB are refused', async () => {
    inBun(() => new Response(gzipBomb(200), { headers: { 'content-encoding': 'gzip' } }));
    const error = await rejectionOf(
      InvalidResponseError,
      acmeRequest(createFetchTransport(), URL_BASE, { maxResponseBytes: 1_000_000 }),
    );
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(
      'acme sent a response larger than 1000000 bytes; raise maxResponseBytes or send fewer inputs per call.',
    );
  });

  it('cancels the compressed stream once the decompressed bytes pass the cap', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>(
      {
        // A gzip header, then the same block without end.
        pull(controller) {
          controller.enqueue(new Uint8Array(BLOCK));
        },
        start(controller) {
          controller.enqueue(new Uint8Array(GZIP_HEADER));
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    inBun(() => new Response(body, { headers: { 'content-encoding': 'gzip' } }));
    await expect(createFetchTransport().request(request())).rejects.toBeInstanceOf(ResponseTooLargeError);
    // The cancel reaches the source through the decompressor's pipe a moment after the refusal.
    await vi.waitFor(() => expect(cancelled).toBe(true));
  });

  it("ends a refused body's request: Bun reads a cancelled body on, so the fetch's own signal aborts, not the caller's", async () => {
    const sent = inBun(() => new Response(gzipBomb(200), { headers: { 'content-encoding': 'gzip' } }));
    const caller = new AbortController();
    await expect(
      createFetchTransport().request({ ...request(), signal: caller.signal }),
    ).rejects.toBeInstanceOf(ResponseTooLargeError);
    expect(sent[0]!.init.signal).not.toBe(caller.signal);
    expect(sent[0]!.init.signal?.aborted).toBe(true);
    expect(caller.signal.aborted).toBe(false);
    // Refused by its declared length before a byte is read, and with no signal of the caller's.
    const declared = inBun(() => new Response('x'.repeat(2_000), { headers: { 'content-length': '2000' } }));
    await expect(createFetchTransport().request(request(1_000))).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
    expect(declared[0]!.init.signal?.aborted).toBe(true);
  });

  it("passes the caller's abort, and its reason, on to the fetch's own signal; a body read whole leaves it be", async () => {
    const reason = new Error('stop now');
    const caller = new AbortController();
    const sent = inBun(() => {
      // The headers came; the body never does.
      queueMicrotask(() => caller.abort(reason));
      return new Response(new ReadableStream({}));
    });
    await expect(createFetchTransport().request({ ...request(), signal: caller.signal })).rejects.toBe(
      reason,
    );
    expect(sent[0]!.init.signal?.aborted).toBe(true);
    expect(sent[0]!.init.signal?.reason).toBe(reason);
    const whole = inBun(() => new Response(GOOD));
    const later = new AbortController();
    await createFetchTransport().request({ ...request(), signal: later.signal });
    expect(whole[0]!.init.signal?.aborted).toBe(false);
    later.abort();
    // Nothing is left watching the caller's signal once the body is read.
    expect(whole[0]!.init.signal?.aborted).toBe(false);
  });

  it('a 503 whose gzip body does not decompress reaches the caller as a ServerError of the 503 with its Retry-After', async () => {
    inBun(
      () =>
        new Response(CORRUPT_GZIP, {
          status: 503,
          headers: { 'content-encoding': 'gzip', 'retry-after': '7', 'x-request-id': 'req-fake-503' },
        }),
    );
    const error = await rejectionOf(ServerError, acmeRequest(createFetchTransport(), URL_BASE));
    expect(error.code).toBe('server_error');
    expect(error.isRetryable).toBe(true);
    expect(error.statusCode).toBe(503);
    expect(error.retryAfterMs).toBe(7_000);
    expect(error.requestId).toBe('req-fake-503');
    expect(error.message).toMatch(
      /^acme API error 503: its compressed body does not decompress \(.*Z_DATA_ERROR.*\) — The API failed on its side; the engine retries these\.$/,
    );
  });

  it('a 200 whose gzip body does not decompress is a non-retryable InvalidResponseError', async () => {
    inBun(() => new Response(CORRUPT_GZIP, { headers: { 'content-encoding': 'gzip' } }));
    const error = await rejectionOf(InvalidResponseError, acmeRequest(createFetchTransport(), URL_BASE));
    expect(error.code).toBe('invalid_response');
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(
      /^acme sent a compressed body that does not decompress \(.*Z_DATA_ERROR.*\)\./,
    );
  });

  it('hands back an empty body declared empty, and a body in an encoding it does not know, as sent', async () => {
    let answer = new Response(new Uint8Array(0), {
      headers: { 'content-encoding': 'gzip', 'content-length': '0' },
    });
    inBun(() => answer);
    const transport = createFetchTransport();
    expect((await transport.request(request())).body).toEqual(new Uint8Array(0));
    answer = new Response('as sent', { headers: { 'content-encoding': 'x-private' } });
    expect(new TextDecoder().decode((await transport.request(request())).body)).toBe('as sent');
  });

  it('leaves an injected fetch, the default fetch outside Bun, and a Bun without DecompressionStream to decompress as they do', async () => {
    const answer = () => new Response('already decompressed', { headers: { 'content-encoding': 'gzip' } });
    vi.stubGlobal('Bun', {});
    const injected = recordingFetch(answer);
    const viaInjected = await createFetchTransport(injected.fetch).request(request());
    vi.unstubAllGlobals();
    const global = recordingFetch(answer);
    vi.stubGlobal('fetch', global.fetch);
    const viaGlobal = await createFetchTransport().request(request());
    // A Bun without DecompressionStream (before 1.3.3) decompresses as it always has.
    const older = inBun(answer);
    vi.stubGlobal('DecompressionStream', undefined);
    const viaOlderBun = await createFetchTransport().request(request());
    for (const [response, sent] of [
      [viaInjected, injected.sent],
      [viaGlobal, global.sent],
      [viaOlderBun, older],
    ] as const) {
      expect(new TextDecoder().decode(response.body)).toBe('already decompressed');
      expect('decompress' in sent[0]!.init).toBe(false);
      expect(sent[0]!.init.headers).toEqual({ authorization: 'Bearer x' });
    }
  });
});
