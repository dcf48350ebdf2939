import { EXIT, exitForSignal } from './errors.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM during a run that writes an output (bulk, index). The first aborts
 * {@link signal}: the run stops at its next safe point, says what it kept, cleans up and exits with
 * {@link exitCode}. A second means the user will not wait: the process exits at once with the first
 * one's code. The output's lock is released on the way out all the same (an {@link OutputLock} removes
 * its file when the process exits); a later run clears whatever else that leaves.
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
    if (this.controller.signal.aborted) process.exit(this.code);
    this.code = exitForSignal(signal);
    this.controller.abort();
  };
}
