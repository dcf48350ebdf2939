import { RateLimitError, type RetryEvent, type WaitEvent } from '@embedkit/core';

/** `1 input`, `2 inputs`: a count of inputs as the CLI's messages say it. */
export function inputCount(count: number): string {
  return `${count} ${count === 1 ? 'input' : 'inputs'}`;
}

export type ProgressMode = 'bar' | 'plain' | 'none';

export interface ProgressOptions {
  mode: ProgressMode;
  /** Plain mode: seconds between lines. */
  intervalSeconds: number;
  /** Inputs already done before this run (a resumed job). */
  resumedInputs: number;
  /** Bytes of the input those inputs came from (a resumed job); default 0. */
  resumedBytes?: number;
  /** Bytes of the input, when it is a file (for the percentage and ETA). */
  totalBytes?: number;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/**
 * Progress of a bulk run on stderr: a bar redrawn in place on a terminal, or a plain line every few
 * seconds otherwise (logs, CI). Shows inputs done, tokens per second, the share of the input file done
 * and the ETA, retries, waits imposed by rate limits (429 answers) and client-side throttling (--rpm / --tpm).
 * The share counts the bytes behind the inputs written, never the bytes read ahead of them; the ETA
 * divides what is left by this run's own pace (a resumed run's earlier inputs took no time now).
 */
export class ProgressReporter {
  private readonly options: ProgressOptions;
  private readonly stream: NodeJS.WriteStream;
  private readonly now: () => number;
  private readonly startedAt: number;
  private inputs = 0;
  private tokens: number | undefined = 0;
  private bytes: number;
  private retries = 0;
  private rateLimitWaits = 0;
  private pacingWaits = 0;
  private pacingWaitMs = 0;
  private rateLimitWaitMs = 0;
  private throttleWaits = 0;
  private throttleWaitMs = 0;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.options = options;
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.bytes = options.resumedBytes ?? 0;
    if (options.mode === 'plain') {
      // A timer counts at most 2^31 - 1 ms (24.8 days); past that Node warns and fires every millisecond.
      const intervalMs = Math.min(2 ** 31 - 1, Math.max(50, options.intervalSeconds * 1000));
      this.timer = setInterval(() => this.line(), intervalMs);
      this.timer.unref();
    }
  }

  /** Inputs written to the output in this run, and the input byte where the last of them ends. */
  done(inputs: number, inputBytesDone: number): void {
    this.inputs = inputs;
    this.bytes = inputBytesDone;
    if (this.options.mode === 'bar' && this.now() - this.lastDraw >= 100) this.draw();
  }

  /** Tokens the provider reported for this run so far (undefined once a call reported none). */
  tokensReported(tokens: number | undefined): void {
    this.tokens = tokens;
  }

  /**
   * A wait before a call: imposed by `--rpm` / `--tpm`, or pacing to stay inside the limits the API states
   * or shows (429 pauses are counted through `retry`).
   */
  wait(event: WaitEvent): void {
    if (event.reason === 'rate-limit') {
      this.throttleWaits++;
      this.throttleWaitMs += event.delayMs;
    } else if (event.reason === 'pacing') {
      this.pacingWaits++;
      this.pacingWaitMs += event.delayMs;
    }
  }

  retry(event: RetryEvent): void {
    this.retries++;
    if (RateLimitError.isInstance(event.error)) {
      this.rateLimitWaits++;
      this.rateLimitWaitMs += event.delayMs;
    }
    if (this.options.mode === 'bar') this.draw();
  }

  /** The numbers shown, also used for the final summary. */
  snapshot() {
    const elapsedSeconds = (this.now() - this.startedAt) / 1000;
    const total = this.options.totalBytes;
    const fraction = total === undefined || total === 0 ? undefined : Math.min(1, this.bytes / total);
    const bytesThisRun = this.bytes - (this.options.resumedBytes ?? 0);
    return {
      inputs: this.options.resumedInputs + this.inputs,
      newInputs: this.inputs,
      elapsedSeconds,
      tokensPerSecond:
        this.tokens === undefined || elapsedSeconds <= 0 ? undefined : this.tokens / elapsedSeconds,
      percent: fraction === undefined ? undefined : fraction * 100,
      etaSeconds:
        // No time elapsed yet says nothing of the pace: the estimate would be 0s whatever is left.
        total === undefined || bytesThisRun <= 0 || this.inputs === 0 || elapsedSeconds <= 0
          ? undefined
          : (elapsedSeconds * Math.max(0, total - this.bytes)) / bytesThisRun,
      retries: this.retries,
      rateLimitWaits: this.rateLimitWaits,
      rateLimitWaitSeconds: this.rateLimitWaitMs / 1000,
      throttleWaits: this.throttleWaits,
      throttleWaitSeconds: this.throttleWaitMs / 1000,
      pacingWaits: this.pacingWaits,
      pacingWaitSeconds: this.pacingWaitMs / 1000,
    };
  }

  private parts(): string[] {
    const s = this.snapshot();
    const parts = [`${inputCount(s.inputs)} done`];
    if (s.percent !== undefined) parts[0] += ` (${s.percent.toFixed(1)}%)`;
    parts.push(
      s.tokensPerSecond === undefined ? 'tokens/s n/a' : `${Math.round(s.tokensPerSecond)} tokens/s`,
    );
    parts.push(`ETA ${s.etaSeconds === undefined ? '?' : formatDuration(s.etaSeconds)}`);
    parts.push(`${s.retries} retries`);
    parts.push(`${s.rateLimitWaits} rate-limit waits (${s.rateLimitWaitSeconds.toFixed(1)}s)`);
    if (s.throttleWaits > 0)
      parts.push(`${s.throttleWaits} --rpm/--tpm waits (${s.throttleWaitSeconds.toFixed(1)}s)`);
    if (s.pacingWaits > 0)
      parts.push(`${s.pacingWaits} waits pacing to the API's limits (${s.pacingWaitSeconds.toFixed(1)}s)`);
    return parts;
  }

  private line(): void {
    this.stream.write(`embedkit: ${this.parts().join(', ')}\n`);
  }

  private draw(): void {
    this.lastDraw = this.now();
    const s = this.snapshot();
    const width = 24;
    const filled = s.percent === undefined ? 0 : Math.round((s.percent / 100) * width);
    const bar = s.percent === undefined ? '' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
    const text = `${bar}${this.parts().join(' · ')}`;
    // One column short of the terminal's width, however narrow: a line that wrapped would leave a row
    // behind at each redraw, since \r goes back only to the start of the last one.
    const columns = Math.max(1, (this.stream.columns ?? 120) - 1);
    this.stream.write(`\r${text.slice(0, columns).padEnd(columns)}`);
  }

  /** Stops the timer; a bar is finished with a newline. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.options.mode === 'bar') {
      this.draw();
      this.stream.write('\n');
    }
  }
}
