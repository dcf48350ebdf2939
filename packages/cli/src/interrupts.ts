import { EXIT, exitForSignal } from './errors.js';
import { releaseWaitingOpens } from './file-system.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM during a run that writes an output (bulk, index). The first aborts
 * {@link signal}: the run stops at its next safe point, says what it kept, cleans up and exits with
 * {@link exitCode}. A second means the user will not wait: the process exits at once with the first
 * one's code. So does the first while the run waits to open a FIFO that no process has opened the other
 * end of (there is no safe point before that open returns). The output's lock is released on the way
 * out all the same (an {@link OutputLock} removes its file when the process exits); a later run clears
 * whatever else that leaves.
 */
export class Interrupts {
  private readonly controller = new AbortController();
  private code: number = EXIT.interrupted;

  /** Aborted by the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The exit code of a run the first signal stopped: 130 for SIGINT, 143 for SIGTERM. */
  get exitCode(): number {
    return this.code;
  }

  /**
   * Runs `work` with the signals handled as above. Outside it they end the process as Node does by
   * default: nothing is left that needs stopping at a safe point.
   */
  async during<T>(work: () => Promise<T>): Promise<T> {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    try {
      return await work();
    } finally {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    }
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    const first = !this.controller.signal.aborted;
    if (first) this.code = exitForSignal(signal);
    // A run waiting to open a FIFO until a process comes to its other end reaches no safe point, and the
    // wait would keep process.exit waiting too: it is released, and the process exits now.
    if (releaseWaitingOpens() || !first) process.exit(this.code);
    this.controller.abort();
  };
}

/**
 * `promise`, or its rejection with `signal`'s reason as soon as `signal` aborts: a read of a pipe whose
 * writer stalls then gives way to the first signal at once (the read is left to end unheard).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
