/**
 * The network lockdown every scenario runs in. A provider gets a `fetch` or a `dispatcher` from
 * `createModel`; one that ignores it and sends through anything else would reach the real API (with
 * the scenario's key) and pass or fail by chance. While a scenario runs, each way out is closed and
 * watched: the global `fetch` and `node:http` (nock in lockdown), undici's global dispatcher (a
 * refusing `MockAgent`), and sockets opened directly (an undici `Agent` of the provider's own, such as
 * core's default one). Everything is restored when the scenario ends, so record mode, which calls the
 * live API, works after any number of scenarios.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import nock from 'nock';
import { type Dispatcher, getGlobalDispatcher, MockAgent, setGlobalDispatcher } from 'undici';

// The modules' own objects (an ESM namespace is read-only): undici looks `connect` up on them at each call.
const require = createRequire(import.meta.url);
const net = require('node:net') as typeof import('node:net');
const tls = require('node:tls') as typeof import('node:tls');

/** A request that tried to leave while the network was locked, and the way it took. */
export interface Escape {
  route: 'the global fetch (or node:http)' | "undici's global dispatcher" | 'a connection of its own';
  /** The URL, or `host:port` for a connection. */
  target: string;
}

/** One holder of the lockdown: the escapes seen while it held it. */
export interface Lockdown {
  readonly escapes: Escape[];
  /** Gives the lockdown back; the last holder restores the network as it found it. */
  release(): Promise<void>;
}

interface Holder {
  escapes: Escape[];
  /** Whether a request through the global fetch is an escape (not when the fetch transport is under test). */
  watchGlobalFetch: boolean;
}

interface State {
  holders: Set<Holder>;
  nockWasActive: boolean;
  dispatcher: Dispatcher;
  refusing: MockAgent;
  connect: typeof net.connect;
  createConnection: typeof net.createConnection;
  tlsConnect: typeof tls.connect;
  onNoMatch: (request: unknown) => void;
}

let state: State | undefined;

function record(leak: Escape, onlyWatchingFetch = false): void {
  for (const holder of state?.holders ?? []) {
    if (onlyWatchingFetch && !holder.watchGlobalFetch) continue;
    holder.escapes.push(leak);
  }
}

/** Where a `net.connect` / `tls.connect` call was headed, from any of its argument forms. */
function connectTarget(args: unknown[]): string {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; port?: number | string; path?: string; servername?: string };
    if (options.path !== undefined) return options.path;
    return `${options.host ?? options.servername ?? 'localhost'}:${options.port ?? ''}`;
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return first;
  return `${typeof second === 'string' ? second : 'localhost'}:${String(first)}`;
}

/** A socket that fails at once, as a refused connection does. */
function refusedSocket(target: string): Socket {
  const socket = new net.Socket();
  const error = Object.assign(
    new Error(
      `connect ECONNREFUSED ${target} (embedkit conformance: no connection may be opened during a scenario)`,
    ),
    { code: 'ECONNREFUSED', syscall: 'connect' },
  );
  process.nextTick(() => socket.destroy(error));
  return socket;
}

function guard<F extends (...args: never[]) => unknown>(): F {
  return ((...args: unknown[]) => {
    const target = connectTarget(args);
    record({ route: 'a connection of its own', target });
    return refusedSocket(target);
  }) as unknown as F;
}

function lock(): State {
  const nockWasActive = nock.isActive();
  if (!nockWasActive) nock.activate();
  nock.disableNetConnect();
  const onNoMatch = (request: unknown) => {
    const { href, url } = (request ?? {}) as { href?: unknown; url?: unknown };
    record({ route: 'the global fetch (or node:http)', target: String(href ?? url ?? 'a request') }, true);
  };
  nock.emitter.on('no match', onNoMatch);
  const dispatcher = getGlobalDispatcher();
  const refusing = new MockAgent();
  refusing.disableNetConnect();
  refusing
    .get(() => true)
    .intercept({ path: () => true, method: () => true })
    .reply((request) => {
      record({ route: "undici's global dispatcher", target: `${request.origin}${request.path}` });
      return {
        statusCode: 599,
        data: JSON.stringify({
          error: { message: 'embedkit conformance: the network is closed during a scenario' },
        }),
        responseOptions: { headers: { 'content-type': 'application/json' } },
      };
    })
    .persist();
  setGlobalDispatcher(refusing);
  const locked: State = {
    holders: new Set(),
    nockWasActive,
    dispatcher,
    refusing,
    connect: net.connect,
    createConnection: net.createConnection,
    tlsConnect: tls.connect,
    onNoMatch,
  };
  net.connect = guard();
  net.createConnection = guard();
  tls.connect = guard();
  return locked;
}

async function unlock(locked: State): Promise<void> {
  net.connect = locked.connect;
  net.createConnection = locked.createConnection;
  tls.connect = locked.tlsConnect;
  if (getGlobalDispatcher() === locked.refusing) setGlobalDispatcher(locked.dispatcher);
  nock.emitter.removeListener('no match', locked.onNoMatch);
  nock.enableNetConnect();
  if (!locked.nockWasActive) nock.restore();
  await locked.refusing.close();
}

/**
 * Closes every way to the network until `release`. `watchGlobalFetch`: a request through the global
 * fetch counts as an escape (true for the undici transport; for the fetch transport the global fetch is
 * the transport under test, and nock answers it).
 */
export function lockNetwork(options: { watchGlobalFetch: boolean }): Lockdown {
  state ??= lock();
  const holder: Holder = { escapes: [], watchGlobalFetch: options.watchGlobalFetch };
  state.holders.add(holder);
  let released = false;
  return {
    escapes: holder.escapes,
    async release() {
      if (released || state === undefined) return;
      released = true;
      state.holders.delete(holder);
      if (state.holders.size > 0) return;
      const locked = state;
      state = undefined;
      await unlock(locked);
    },
  };
}

/** Whether the network is locked now (a scenario is running). */
export function networkLocked(): boolean {
  return state !== undefined;
}
