import { whenAborted } from '../engine/signal.js';
import {
  bodyFailure,
  concatChunks,
  ResponseTooLargeError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';

/** A `fetch`-shaped function: the global one, a runtime's, or a test double. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/**
 * The transport for browsers, edge runtimes, Bun and injected fetches. It never receives an undici
 * dispatcher: handing one from the npm package to a runtime's `fetch` breaks across undici majors.
 */
export function createFetchTransport(
  fetchFunction: FetchFunction = (input, init) => globalThis.fetch(input, init),
): Transport {
  return {
    kind: 'fetch',
    async request(request: TransportRequest): Promise<TransportResponse> {
      // `manual`: a followed redirect would carry the key headers (`api-key`, `x-goog-api-key`; fetch strips
      // only `Authorization`) to whatever origin the Location names. requestJson reports the 3xx instead.
      const init: RequestInit = { method: request.method, headers: request.headers, redirect: 'manual' };
      if (request.body !== undefined) init.body = request.body;
      if (request.signal !== undefined) init.signal = request.signal;
      const response = await fetchFunction(request.url, init);
      // In browsers a manual redirect is an opaque response: status 0, no headers, no body.
      if (response.type === 'opaqueredirect') {
        await response.body?.cancel().catch(() => {});
        return { status: 0, headers: {}, body: new Uint8Array(0) };
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      const body = await readBody(response, request.maxResponseBytes, request.signal).catch(
        (error: unknown) => {
          throw bodyFailure(response.status, headers, error);
        },
      );
      return { status: response.status, headers, body };
    },
  };
}

async function readBody(
  response: Response,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  // A compressed body's declared length is not the length it decompresses to (the undici transport
  // decides the same way): only the bytes read count then.
  const declared =
    response.headers.get('content-encoding') === null
      ? Number(response.headers.get('content-length'))
      : Number.NaN;
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(limit);
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  // A runtime's fetch may leave a read pending after its signal aborts (Node 20's did, on a corrupt
  // gzip body): the abort then ends the wait here, so a timeout or a caller's abort always settles.
  const aborted = signal === undefined ? undefined : whenAborted(signal);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } =
        aborted === undefined ? await reader.read() : await Promise.race([reader.read(), aborted.promise]);
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw new ResponseTooLargeError(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (signal?.aborted) reader.cancel(signal.reason).catch(() => {});
    throw error;
  } finally {
    aborted?.stop();
  }
  return concatChunks(chunks, total);
}
