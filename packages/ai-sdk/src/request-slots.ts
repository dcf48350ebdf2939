/**
 * The requests in flight through one `toAISDK` model, shared by every `doEmbed` of it. The AI SDK calls
 * `doEmbed` once per chunk of values (all chunks of a wave at once) and applications call it from many
 * places at once; each `doEmbed` is its own embedkit job with its own sliding pool, so without a shared
 * count each job would send `concurrency` requests of its own.
 *
 * A job takes its slots before it starts and holds them until it ends, and runs with as many calls in
 * flight as it holds: the sum over all jobs never passes the size. Waiting happens before the engine
 * starts an attempt, so it counts against no attempt's `timeoutMs` and holds nothing of the rate limiter
 * (a call that waited still honours a 429 pause that began meanwhile). Jobs are served in the order they
 * asked.
 */
export class RequestSlots {
  private free: number;
  private readonly waiting: { wanted: number; grant: (slots: number) => void }[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /**
   * Up to `wanted` slots, at least one, as soon as one is free and every earlier job has been served.
   * Resolves with 0 when `wanted` is 0 or `signal` aborts first (the job then ends with the engine's own
   * abort error, before any request).
   */
  take(wanted: number, signal: AbortSignal | undefined): Promise<number> {
    if (wanted <= 0 || signal?.aborted) return Promise.resolve(0);
    if (this.waiting.length === 0 && this.free > 0) {
      const slots = Math.min(wanted, this.free);
      this.free -= slots;
      return Promise.resolve(slots);
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index !== -1) this.waiting.splice(index, 1);
        resolve(0);
      };
      const waiter = {
        wanted,
        grant: (slots: number) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(slots);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Returns slots a job held, handing them to the jobs waiting, first come first served. */
  give(slots: number): void {
    this.free += slots;
    while (this.free > 0 && this.waiting.length > 0) {
      const waiter = this.waiting.shift()!;
      const granted = Math.min(waiter.wanted, this.free);
      this.free -= granted;
      waiter.grant(granted);
    }
  }
}
