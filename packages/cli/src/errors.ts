import { EmbedKitError, InvalidArgumentError, RetryError, TimeoutError } from '@embedkit/core';
import { RETRIES_SPENT_CLAUSE } from '@embedkit/core/provider';
import { inCommandTerms } from './library-terms.js';

/** Exit codes of the `embedkit` command. */
export const EXIT = {
  ok: 0,
  /** A run that failed: a provider error, a bad input file, a refused index. */
  failure: 1,
  /** The command line itself is wrong: an unknown option, a missing argument. */
  usage: 2,
  /** `bulk`: another live run holds the output's lock (EX_TEMPFAIL: try again once it is over). */
  locked: 75,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + SIGTERM), as `kill` or a service manager sends it. */
  terminated: 143,
} as const;

/** The exit code after `signal` stopped a run: 128 + its number (SIGINT 130, SIGTERM 143). */
export function exitForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}

/** An error the command reports as one clear message, without a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A usage mistake: exits 2 and points at the command's help. */
export class UsageError extends CliError {
  constructor(message: string, command?: string) {
    super(
      `${message}\nRun "embedkit ${command === undefined ? '' : `${command} `}--help" for usage.`,
      EXIT.usage,
    );
    this.name = 'UsageError';
  }
}

/** A bad line of an input file: the message always starts with `file:line:`. */
export class InputError extends CliError {
  readonly line: number;
  /** What is wrong with the line, without the `file:line:` before it. */
  readonly reason: string;
  constructor(source: string, line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'InputError';
    this.line = line;
    this.reason = message;
  }
}

/**
 * An input file that changed between two readings of one run: what one reading checked or embedded is
 * not what the other read. The message says what changed; each command adds what that means for its
 * output and what to do.
 */
export class InputChangedError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'InputChangedError';
  }
}

/**
 * One line for any error. Embedkit errors carry the status and request id (never the key: core
 * redacts secrets before an error is built), and are said in the command's words: the library's
 * settings as the command's flags (`inCommandTerms`). A retry error's own message says how many times
 * the call failed, so the count is not said again.
 */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  const missingKey = missingKeyMessage(error);
  if (missingKey !== undefined) return missingKey;
  if (EmbedKitError.isInstance(error)) {
    const details: string[] = [];
    if (error.statusCode !== undefined) details.push(`HTTP ${error.statusCode}`);
    if (error.requestId !== undefined) details.push(`request id ${error.requestId}`);
    return `${inCommandTerms(afterRetries(error))}${details.length === 0 ? '' : ` (${details.join(', ')})`}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** What a command can do once every retry failed, in place of the library's advice, which names a setting. */
const AFTER_RETRIES = 'try again later, or raise --max-retries';

/** The same, when the last attempt ran out of time: --timeout gives each attempt more. */
const AFTER_TIMEOUTS = 'try again later, or raise --timeout or --max-retries';

/**
 * The message of an error with one piece of advice on what to do now. Where every attempt failed (a
 * `RetryError`), the library's advice (`RETRIES_SPENT_CLAUSE`, which it puts after a last error whose own
 * words give none) is the command's: to try again later or raise --max-retries, and --timeout too when
 * the last attempt ran out of time. (Every other setting a message names is said by `inCommandTerms`.)
 */
function afterRetries(error: EmbedKitError): string {
  const message = error.message;
  const at = message.lastIndexOf(RETRIES_SPENT_CLAUSE);
  if (!RetryError.isInstance(error) || at < 0) return message;
  const advice = TimeoutError.isInstance(error.lastError) ? AFTER_TIMEOUTS : AFTER_RETRIES;
  return `${message.slice(0, at)}${advice}${message.slice(at + RETRIES_SPENT_CLAUSE.length)}`;
}

/**
 * A missing key, in the command's words: which variable to set, and the flag that names another one.
 * (The library's own message speaks of settings a program passes, which a shell user has no way to.)
 */
function missingKeyMessage(error: unknown): string | undefined {
  if (!InvalidArgumentError.isInstance(error) || error.argument !== 'apiKey') return undefined;
  const variables = error.environmentVariables;
  if (variables === undefined || variables.length === 0) return undefined;
  const who = error.provider === undefined ? 'The provider' : error.provider;
  return `${who} needs an API key: set ${variables.join(' or ')}, or name the variable that holds it with --api-key-env <VAR>. To try a command without a key, add --replay <dir> with recorded cassettes.`;
}
