/** One process's report (see limiter-worker.mjs). */
export interface LimiterWorkerResult {
  inputs?: number;
  vectors?: number;
  /** Vectors that differ from what the server sent. */
  wrong?: number;
  retries?: number;
  wallMs?: number;
  warnings: string[];
  error?: string;
}

export interface LimiterRun {
  limiter: 'redis' | 'split' | 'full';
  processes: number;
  tokensPerMinute: number;
  inputs: number;
  workTokens: number;
  requests: number;
  rateLimited: number;
  acceptedTokens: number;
  windowMs: number;
  /** Accepted tokens / (one minute's allowance + the allowance for the window). */
  share: number;
  /** When the server's first 50 refusals happened, in ms after the first request. */
  rateLimitedAtMs: number[];
  workers: LimiterWorkerResult[];
}

export function runLimiterProcesses(options: {
  limiter: 'redis' | 'split' | 'full';
  redisUrl?: string;
  tokensPerMinute?: number;
  extraSeconds?: number;
  shares?: number[];
  batch?: number;
  concurrency?: number;
  dimensions?: number;
  timeoutMs?: number;
  /** Each process makes one call on another key before the measured job (a running replica). Default true. */
  warm?: boolean;
  /** Let the limiters read the server's x-ratelimit-* headers. Default true. */
  learnFromHeaders?: boolean;
}): Promise<LimiterRun>;
