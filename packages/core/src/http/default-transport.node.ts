import type { Dispatcher } from 'undici';
import type { Transport, TransportRequest } from './transport.js';

/**
 * The default transport on Node (chosen by the `node` condition of core's `#default-transport` import):
 * undici over a keep-alive agent, loaded on first use so that importing core stays cheap.
 */
export function createDefaultTransport(dispatcher?: Dispatcher): Transport {
  let loaded: Transport | undefined;
  let loading: Promise<Transport> | undefined;
  return {
    kind: 'undici',
    request(request: TransportRequest) {
      if (loaded !== undefined) return loaded.request(request);
      loading ??= import('./undici-transport.js').then((module) => {
        loaded = module.createUndiciTransport(dispatcher);
        return loaded;
      });
      return loading.then((transport) => transport.request(request));
    },
    proxyUrls: () => loaded?.proxyUrls?.() ?? [],
    proxyHeaders: () => loaded?.proxyHeaders?.() ?? [],
  };
}
