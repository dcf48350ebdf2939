import { InvalidArgumentError } from '../errors.js';
import { createFetchTransport } from './fetch-transport.js';
import type { Transport } from './transport.js';

/**
 * The default transport everywhere but Node (browsers, web workers, edge runtimes, Bun, Deno): the
 * runtime's own `fetch`. Core's `#default-transport` import picks this file for every condition other
 * than `node`, so no bundler outside Node ever sees undici.
 */
export function createDefaultTransport(dispatcher?: unknown): Transport {
  if (dispatcher !== undefined) {
    // An undici dispatcher only steers undici's own `request`; handing it to this runtime's fetch would break.
    throw new InvalidArgumentError(
      'dispatcher is a Node (undici) setting and this runtime sends requests with fetch; pass `fetch` instead to change how requests are made.',
      { argument: 'dispatcher' },
    );
  }
  return createFetchTransport();
}
