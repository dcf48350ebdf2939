import { onAbort, whenAborted } from '../engine/signal.js';
import {
  ACCEPT_ENCODING,
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
 * The `DecompressionStream` format of each Content-Encoding the transport decompresses itself (in Bun
 * only, below). Bun's stream takes all four; an encoding not here is handed on as sent, as Bun's own
 * fetch does.
 */
const DECODERS = new Map([
  ['gzip', 'gzip'],
  ['deflate', 'deflate'],
  ['br', 'brotli'],
  ['zstd', 'zstd'],
]);

/**
 * The transport for browsers, edge runtimes, Bun and injected fetches. It never receives an undici
 * dispatcher: handing one from the npm package to a runtime's `fetch` breaks across undici majors.
 */
export function createFetchTransport(fetchFunction?: FetchFunction): Transport {
  // Bun's own fetch inflates a compressed body far ahead of its reader (a gzip bomb refused at 1 MB took
  // a gigabyte and seconds, and held up the process's other requests), and rejects a small body that
  // does not decompress before it hands back the response, so an error status and its Retry-After were
  // lost. So Bun's fetch is asked for the body as sent (`decompress: false`, an option of Bun's, which
  // then offers no encoding unless told) and the body is decompressed here as it is read, counted against
  // the cap. An injected fetch decompresses as it always has, and so does a Bun without
  // `DecompressionStream` (before 1.3.3).
  const inBun = fetchFunction === undefined && 'Bun' in globalThis;
  const decompressHere = inBun && typeof DecompressionStream === 'function';
  const send = fetchFunction ?? ((input, init) => globalThis.fetch(input, init));
  return {
    kind: 'fetch',
    proxyUrls: environmentProxies,
    async request(request: TransportRequest): Promise<TransportResponse> {
      // `manual`: a followed redirect would carry the key headers (`api-key`, `x-goog-api-key`; fetch strips
      // only `Authorization`) to whatever origin the Location names. requestJson reports the 3xx instead.
      const init: RequestInit & { decompress?: boolean } = {
        method: request.method,
        headers: request.headers,
        redirect: 'manual',
      };
      if (decompressHere) {
        init.headers = { 'accept-encoding': ACCEPT_ENCODING, ...request.headers };
        init.decompress = false;
      }
      if (request.body !== undefined) init.body = request.body;
      // Bun's fetch reads a cancelled body on to its end (a 64 MiB body refused at 1 MB was still read
      // whole, its connection busy meanwhile); only an abort of the request closes the connection. So in
      // Bun the request gets a signal of its own: aborted with the caller's, and when its body fails.
      const own = inBun ? new AbortController() : undefined;
      const stopWatching = own === undefined ? undefined : linkAbort(request.signal, own);
      const signal = own?.signal ?? request.signal;
      if (signal !== undefined) init.signal = signal;
      try {
        return await exchange(request, init, send, decompressHere);
      } catch (error) {
        own?.abort(error);
        throw error;
      } finally {
        stopWatching?.();
      }
    },
  };
}

/**
 * The proxies the runtime's own fetch goes through, read from the environment: Bun's and Deno's always
 * (Deno's `ALL_PROXY` too), Node's when told to (`NODE_USE_ENV_PROXY=1` or `--use-env-proxy`, Node 24).
 * Their credentials are secrets of every call, since a proxy's page may echo them (`ALL_PROXY`, which only
 * Deno reads, is counted everywhere: a secret too many hides nothing). None in other runtimes.
 */
function environmentProxies(): string[] {
  const names = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'];
  // Asked while an error is built, which must not fail in its turn, nor wait: Deno asks the user before a
  // read it was not granted (or throws, with no terminal to ask on), so there only granted ones are read.
  try {
    const deno = (globalThis as { Deno?: DenoEnvironment }).Deno;
    // Each variable on its own: one Deno cannot answer for (no `querySync`, as on Deno Deploy) costs only itself.
    if (deno)
      return names.flatMap((variable) => {
        try {
          return deno.permissions.querySync({ name: 'env', variable }).state === 'granted'
            ? deno.env.get(variable) || []
            : [];
        } catch {
          return [];
        }
      });
    const node = globalThis.process;
    const env = node?.env ?? {};
    const told =
      node?.versions?.bun ||
      env.NODE_USE_ENV_PROXY === '1' ||
      `${node?.execArgv} ${env.NODE_OPTIONS}`.includes('--use-env-proxy');
    return told ? names.flatMap((name) => env[name] || []) : [];
  } catch {
    return [];
  }
}

/** What of Deno's namespace reads the environment without asking the user. */
interface DenoEnvironment {
  permissions: { querySync(descriptor: { name: 'env'; variable: string }): { state: string } };
  env: { get(name: string): string | undefined };
}

/** Aborts `own` when `signal` does (at once when it has); returns the function that stops watching. */
function linkAbort(signal: AbortSignal | undefined, own: AbortController): (() => void) | undefined {
  if (signal === undefined) return undefined;
  if (signal.aborted) {
    own.abort(signal.reason);
    return undefined;
  }
  return onAbort(signal, () => own.abort(signal.reason));
}

/** Sends the request and reads its answer whole, within the request's cap. */
async function exchange(
  request: TransportRequest,
  init: RequestInit,
  send: FetchFunction,
  decompressHere: boolean,
): Promise<TransportResponse> {
  const response = await send(request.url, init);
  // In browsers a manual redirect is an opaque response: status 0, no headers, no body.
  if (response.type === 'opaqueredirect') {
    await response.body?.cancel().catch(() => {});
    return { status: 0, headers: {}, body: new Uint8Array(0) };
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const body = await readBody(response, request.maxResponseBytes, request.signal, decompressHere).catch(
    (error: unknown) => {
      throw bodyFailure(response.status, headers, error);
    },
  );
  return { status: response.status, headers, body };
}

async function readBody(
  response: Response,
  limit: number,
  signal: AbortSignal | undefined,
  decompress: boolean,
): Promise<Uint8Array> {
  const encoding = response.headers.get('content-encoding');
  const length = response.headers.get('content-length');
  // A compressed body's declared length is not the length it decompresses to (the undici transport
  // decides the same way): only the bytes read count then.
  const declared = encoding === null ? Number(length) : Number.NaN;
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(limit);
  }
  if (response.body === null) return new Uint8Array(0);
  // An empty body is empty in any encoding (a decompressor refuses it as cut short; Bun's fetch does not).
  const format = decompress && length !== '0' ? DECODERS.get(encoding?.toLowerCase() ?? '') : undefined;
  // (Node's types list only the three formats Node 20's stream takes.)
  const reader = (
    format === undefined
      ? response.body
      : response.body.pipeThrough(new DecompressionStream(format as 'gzip'))
  ).getReader();
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
