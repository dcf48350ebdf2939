import type { CreateModelOptions } from '@embedkit/conformance';
import { fetch as undiciFetch } from 'undici';

/**
 * The `fetch` an AI SDK provider gets from the suite. The fetch transport hands one over as is; for the
 * undici transport the suite hands over a dispatcher (a `MockAgent`), and the AI SDK providers take only
 * a `fetch`, so they get undici's own `fetch` bound to that dispatcher: the same npm undici package on
 * both sides, never the runtime's global `fetch` with an npm dispatcher.
 */
export function peerFetch(options: CreateModelOptions): typeof globalThis.fetch {
  if (options.fetch !== undefined) return options.fetch as typeof globalThis.fetch;
  const dispatcher = options.dispatcher;
  if (dispatcher === undefined) throw new Error('the suite passed neither fetch nor dispatcher');
  return ((input: string, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof globalThis.fetch;
}
