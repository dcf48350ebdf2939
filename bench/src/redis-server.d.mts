/** A throwaway redis-server on a loopback port (see redis-server.mjs). */
export interface RedisServer {
  port: number;
  url: string;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** SIGSTOP: it accepts nothing and answers nothing until `thaw`. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export function startRedisServer(options?: { binary?: string }): Promise<RedisServer>;

/** A loopback port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number>;
