import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  cacheMiddleware,
  type EmbeddingModel,
  type EmbeddingModelMiddleware,
  type InputType,
  InvalidArgumentError,
  MAX_RETRIES,
  type OutputType,
  type Warning,
  wrapEmbeddingModel,
} from '@embedkit/core';
import { checkVectorSettings, redactGivenUrl } from '@embedkit/core/provider';
import {
  environmentSwitch,
  inputTypeOption,
  integerOption,
  modelOption,
  numberOption,
  type ParsedValues,
  stringOption,
} from './args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { inCommandTerms } from './library-terms.js';
import { isPackageMissing, type OpenedModel, openModel } from './providers.js';

/** The model and engine settings every embedding command reads from its options. */
export interface ModelChoice {
  provider: string;
  modelId: string;
  inputType?: InputType;
  dimensions?: number;
  maxRetries?: number;
  timeoutMs?: number;
  baseURL?: string;
  replay?: string;
  apiKeyEnvironmentVariable?: string;
  /** Where vectors are cached on disk; absent: no cache. `explicit`: named by --cache (a failure is an error). */
  cache?: { directory: string; explicit: boolean };
}

/** The cache directory when none is given: `$XDG_CACHE_HOME/embedkit`, else `~/.cache/embedkit`. */
export function defaultCacheDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const base = environment.XDG_CACHE_HOME;
  // The XDG spec ignores a relative XDG_CACHE_HOME.
  return join(base !== undefined && isAbsolute(base) ? base : join(homedir(), '.cache'), 'embedkit');
}

/**
 * --cache <dir>, --no-cache, or the default: on, in the default directory, unless EMBEDKIT_NO_CACHE is set
 * or the answers come from cassettes (--replay), which must never land in a real cache.
 */
function cacheOption(command: string, values: ParsedValues, replay: boolean): ModelChoice['cache'] {
  const directory = stringOption(values, 'cache');
  if (values['no-cache'] === true) {
    if (directory !== undefined) throw new UsageError('--cache and --no-cache cannot be combined.', command);
    return undefined;
  }
  if (directory !== undefined) {
    if (directory.trim() === '') throw new UsageError('--cache needs a directory.', command);
    return { directory: resolve(directory), explicit: true };
  }
  if (replay || environmentSwitch('EMBEDKIT_NO_CACHE')) return undefined;
  return { directory: defaultCacheDirectory(), explicit: false };
}

export function readModelChoice(command: string, values: ParsedValues): ModelChoice {
  const { provider, modelId } = modelOption(command, values);
  const choice: ModelChoice = { provider, modelId };
  const inputType = inputTypeOption(command, values);
  if (inputType !== undefined) choice.inputType = inputType;
  const dimensions = integerOption(command, values, 'dimensions', 1);
  if (dimensions !== undefined) choice.dimensions = dimensions;
  const maxRetries = integerOption(command, values, 'max-retries', 0, MAX_RETRIES);
  if (maxRetries !== undefined) choice.maxRetries = maxRetries;
  const timeout = numberOption(command, values, 'timeout');
  if (timeout !== undefined) {
    choice.timeoutMs = Math.round(timeout * 1000);
    // The engine's timer counts whole milliseconds, at most 2^31 − 1 (about 24.8 days).
    if (choice.timeoutMs < 1 || choice.timeoutMs > 2_147_483_647) {
      throw new UsageError(
        `--timeout must be from 0.001 to 2147483.647 seconds (about 24 days), got "${stringOption(values, 'timeout')}".`,
        command,
      );
    }
  }
  const baseURL = baseURLOption(command, values);
  if (baseURL !== undefined) choice.baseURL = baseURL;
  const replay = stringOption(values, 'replay');
  // An empty value (`--replay "$CASSETTES"` with the variable unset) would read the working directory.
  if (replay !== undefined && replay.trim() === '')
    throw new UsageError('--replay needs a directory of cassettes.', command);
  if (replay !== undefined) choice.replay = replay;
  const keyVariable = stringOption(values, 'api-key-env');
  if (keyVariable !== undefined) {
    // A key pasted here (`--api-key-env $OPENAI_API_KEY`) is refused without being echoed.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyVariable)) {
      throw new UsageError(
        '--api-key-env takes the name of the environment variable that holds the key, e.g. --api-key-env TEAM_OPENAI_KEY; the value given is not a variable name (not shown, in case it is the key itself).',
        command,
      );
    }
    choice.apiKeyEnvironmentVariable = keyVariable;
  }
  const cache = cacheOption(command, values, replay !== undefined);
  if (cache !== undefined) choice.cache = cache;
  return choice;
}

/** The environment variable that stands in for `--base-url`. */
export const BASE_URL_VARIABLE = 'EMBEDKIT_BASE_URL';

function isHttpURL(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The API paths are added to the end of the base URL as it is written: after a query or a fragment they
 * would land in it. Said here in the command's words; the provider's own refusal speaks of a "baseURL
 * setting" and of settings a program passes, whichever of the flag or the variable gave the URL.
 */
const hasQueryOrFragment = (text: string) => /[?#]/.test(text);

/**
 * A user name or password in the URL is never sent (core refuses such a base URL): said in the command's
 * words, without the URL, whose password must not reach a terminal log.
 */
const hasCredentials = (text: string) => {
  const url = new URL(text);
  return url.username !== '' || url.password !== '';
};
const CREDENTIALS_NOT_SENT =
  "holds a user name or password (user:password@), and credentials in the URL are not sent: remove them, and give the API key in the provider's key variable (or the one --api-key-env names).";

/**
 * `url` with its query parameters' names only (`?k=…`): no list of names can tell which values are
 * credentials (a gateway's `?k=` or `?sig=`), so none is shown or recorded; a part without a name
 * (`?abc123`) is a value too. The one rule for every base URL a message shows or a file records.
 */
function queryNamesOnly(url: string): string {
  return url.replace(/([?&#])([^=&#]*)(=?)[^&#]*/g, (_, separator: string, name: string, equals: string) =>
    equals === '' ? `${separator}…` : `${separator}${name}=…`,
  );
}

/**
 * A base URL as a message shows it: without a user name and password, and with its query parameters'
 * names only. Read as text, not by `new URL`: a refused one may be no URL, and a password may hold `@`,
 * `#` or `?` that move its parts.
 */
export function shownBaseURL(text: string): string {
  return queryNamesOnly(redactGivenUrl(text));
}

/**
 * `--base-url`, else `EMBEDKIT_BASE_URL`; either must be an absolute http(s) URL, checked before
 * anything else happens (a malformed one would otherwise fail as a network error, retried). The
 * variable's value is not echoed: a key pasted into the wrong variable must not reach a terminal log.
 */
export function baseURLOption(command: string, values: ParsedValues): string | undefined {
  const flag = stringOption(values, 'base-url');
  if (flag !== undefined) {
    if (!isHttpURL(flag)) {
      throw new UsageError(
        `--base-url must be an absolute http(s) URL, e.g. http://localhost:8000/v1; got "${shownBaseURL(flag)}".`,
        command,
      );
    }
    if (hasCredentials(flag)) throw new UsageError(`--base-url ${CREDENTIALS_NOT_SENT}`, command);
    if (hasQueryOrFragment(flag)) {
      throw new UsageError(
        `--base-url must end with the API's path, e.g. http://localhost:8000/v1: the paths are added to its end, so it cannot hold a query or a fragment (? or #); got "${shownBaseURL(flag)}".`,
        command,
      );
    }
    return flag;
  }
  const variable = process.env[BASE_URL_VARIABLE]?.trim();
  if (variable === undefined || variable === '') return undefined;
  if (!isHttpURL(variable)) {
    throw new UsageError(
      `${BASE_URL_VARIABLE} is set but is not an absolute http(s) URL; set it to one, e.g. http://localhost:8000/v1, or unset it.`,
      command,
    );
  }
  if (hasCredentials(variable)) throw new UsageError(`${BASE_URL_VARIABLE} ${CREDENTIALS_NOT_SENT}`, command);
  if (hasQueryOrFragment(variable)) {
    throw new UsageError(
      `${BASE_URL_VARIABLE} has a query or a fragment (? or #); the API paths are added to its end, so it must end with the path, e.g. http://localhost:8000/v1.`,
      command,
    );
  }
  return variable;
}

/**
 * The base URL as an index or a checkpoint records it: the parsed form (the same server is written one
 * way), without a user name and password, and with its query parameters' names only, so that a file
 * never holds a credential. Earlier versions recorded queries; the commands now refuse a base URL that has one.
 */
export function publicBaseURL(text: string): string {
  const url = new URL(text);
  url.username = '';
  url.password = '';
  return queryNamesOnly(url.href);
}

/**
 * The server as a job records it: the public form of the base URL (no credentials), without trailing
 * slashes; null for the provider's own host. Two runs whose keys differ talk to different servers.
 */
export function serverKey(baseURL: string | undefined): string | null {
  return baseURL === undefined ? null : publicBaseURL(baseURL).replace(/\/+$/, '');
}

/** An opened model and the server it calls. */
export interface ChosenModel extends OpenedModel {
  /**
   * The API root when it is not the provider's own: `--base-url`, or the variable the provider reads
   * (`OPENAI_BASE_URL`, `VOYAGE_BASE_URL`, …). The disk cache and an index keep vectors apart by it.
   */
  baseURL: string | undefined;
}

/**
 * Where the model's calls go when not to the provider's default. The provider knows (its setting, or the
 * environment variable it reads); a provider that does not say is taken at `--base-url`'s word. A base
 * URL the provider refuses is a usage error, reported before anything is read or sent.
 */
function serverOf(opened: OpenedModel, choice: ModelChoice): string | undefined {
  const { model } = opened;
  try {
    return model.customBaseURL === undefined ? choice.baseURL : model.customBaseURL();
  } catch (error) {
    if (InvalidArgumentError.isInstance(error) && error.argument === 'baseURL')
      throw new UsageError(inCommandTerms(error.message));
    throw error;
  }
}

/** Each distinct warning is printed once per run, whoever finds it first (the model's first call or the engine). */
const printedWarnings = new Set<string>();

function printWarning(message: string): void {
  if (printedWarnings.has(message)) return;
  printedWarnings.add(message);
  process.stderr.write(`warning: ${inCommandTerms(message)}\n`);
}

/**
 * The input type the calls carry: the one asked for when the model has it, none otherwise (the engine
 * sends an input type the model lacks as none). What a job, an index or `--json` records is this one,
 * since it is what the vectors were made with.
 */
export function sentInputType(
  model: Pick<EmbeddingModel, 'capabilities'>,
  inputType: InputType | undefined,
): InputType | undefined {
  return inputType !== undefined && model.capabilities.inputTypes.includes(inputType) ? inputType : undefined;
}

/**
 * Checks the run's vector settings against the model's capabilities, with the engine's own check, before
 * anything is read, created or sent: an output type or a length the model cannot give is a usage error
 * (exit 2), not a failure found at the first call after the output files exist. Returns the warnings (an
 * input type the model lacks): they say the inputs were sent without one, so they wait for the first call.
 */
function checkCapabilities(model: EmbeddingModel, choice: ModelChoice, outputType: OutputType): Warning[] {
  let warnings: Warning[];
  try {
    ({ warnings } = checkVectorSettings(model, {
      outputType,
      ...(choice.dimensions === undefined ? {} : { dimensions: choice.dimensions }),
      ...(choice.inputType === undefined ? {} : { inputType: choice.inputType }),
    }));
  } catch (error) {
    if (!InvalidArgumentError.isInstance(error)) throw error;
    throw new CliError(
      `${inCommandTerms(error.message)}\nRun "embedkit models --provider ${choice.provider}" for what each model supports.`,
      EXIT.usage,
    );
  }
  return warnings;
}

/**
 * Prints `warnings` when the model is first called: a run refused before it sends anything (another
 * job's output, a bad first line) must not say that its inputs were sent without an input type.
 */
function warnOnFirstCall(warnings: readonly Warning[]): EmbeddingModelMiddleware {
  return {
    wrapEmbed: ({ doEmbed, request }) => {
      for (const warning of warnings) printWarning(warning.message);
      return doEmbed(request);
    },
  };
}

export interface OpenChoiceOptions {
  batchSize?: number;
  replayInputs?: string[];
  /** The output type the command will ask for (default float): checked against the model before anything else. */
  outputType?: OutputType;
  /** Runs once the model and its server are known, before the cache opens or anything is sent; may throw. */
  verify?: (chosen: { model: EmbeddingModel; baseURL: string | undefined }) => void;
}

/**
 * The model of the choice, behind the disk cache when one is on. The settings are checked against the
 * model's capabilities first (a usage error, exit 2), then `verify` runs; both before the cache opens.
 * An input type the model lacks is a warning, printed when the model is first called.
 */
export async function openChoice(choice: ModelChoice, extra: OpenChoiceOptions = {}): Promise<ChosenModel> {
  const opened = await openProvider(choice, extra);
  let baseURL: string | undefined;
  let warnings: Warning[];
  try {
    warnings = checkCapabilities(opened.model, choice, extra.outputType ?? 'float');
    baseURL = serverOf(opened, choice);
    extra.verify?.({ model: opened.model, baseURL });
  } catch (error) {
    await opened.close();
    throw error;
  }
  // Outermost: vectors the cache answers with were made without the input type too. Without a warning to
  // give, no layer: the model is called as it is.
  const warned = warnings.length === 0 ? [] : [warnOnFirstCall(warnings)];
  const uncached = (): ChosenModel => ({
    ...opened,
    model: warned.length === 0 ? opened.model : wrapEmbeddingModel(opened.model, warned),
    baseURL,
  });
  if (choice.cache === undefined) return uncached();
  let store: Awaited<ReturnType<typeof openCache>>;
  try {
    store = await openCache(choice.cache.directory, cacheNamespace(choice, baseURL));
  } catch (error) {
    if (isPackageMissing(error, CACHE_PACKAGE)) {
      // The cache is an optional package (its LMDB binaries are most of an install): without it, a
      // `--cache` is an error naming what to install, and the default cache is simply not there.
      if (!choice.cache.explicit) return uncached();
      await opened.close();
      throw new CliError(
        `--cache needs the disk cache package, which is not installed. Install it where the CLI is installed: npm install --global ${CACHE_PACKAGE} beside a global CLI, npm install ${CACHE_PACKAGE} in a project.`,
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    if (choice.cache.explicit) {
      await opened.close();
      throw new CliError(`--cache: ${reason}`);
    }
    // The default cache is a convenience: without it every input is simply sent.
    process.stderr.write(
      `warning: the embedding cache is off: ${reason} (--cache <dir> picks another directory, --no-cache turns it off).\n`,
    );
    return uncached();
  }
  return {
    model: wrapEmbeddingModel(opened.model, [
      ...warned,
      cacheMiddleware({ store, onWarning: (warning) => printWarning(warning.message) }),
    ]),
    baseURL,
    close: async () => {
      try {
        await opened.close();
      } finally {
        await store.close();
      }
    },
  };
}

/** The disk cache's package: an optional peer of the CLI. */
const CACHE_PACKAGE = '@embedkit/cache-disk';

/**
 * The disk cache in `directory` (its package holds native code, so it loads only when a cache is used).
 * Vectors from different servers that use one model name must not mix: the server (`serverKey`: the
 * base URL without credentials) is the namespace.
 */
/**
 * The part of the cache a run's answers go to: the API root's public form (a password in --base-url must
 * not be written to disk in the cache's keys), none for the provider's own host, and for a replay one of
 * its own per cassette directory: stored beside real answers, a recording's vectors (constructed ones
 * included) were served later as the API's to every run that named the cache, and one directory's to
 * another's.
 */
function cacheNamespace(choice: ModelChoice, baseURL: string | undefined): string | undefined {
  if (choice.replay !== undefined)
    return `replay:${createHash('sha256').update(resolve(choice.replay)).digest('hex')}`;
  return baseURL === undefined ? undefined : serverKey(baseURL)!;
}

async function openCache(directory: string, namespace: string | undefined) {
  const { openDiskCacheStore } = (await import(CACHE_PACKAGE)) as typeof import('@embedkit/cache-disk');
  return openDiskCacheStore({
    directory,
    ...(namespace === undefined ? {} : { namespace }),
    // A full disk or an unreadable file: said as the CLI's other warnings are, and the run goes on.
    onWarning: (warning) => printWarning(warning.message),
  });
}

function openProvider(
  choice: ModelChoice,
  extra: { batchSize?: number; replayInputs?: string[] },
): Promise<OpenedModel> {
  return openModel({
    provider: choice.provider,
    modelId: choice.modelId,
    ...(choice.baseURL === undefined ? {} : { baseURL: choice.baseURL }),
    ...(choice.replay === undefined ? {} : { replay: choice.replay }),
    ...(choice.apiKeyEnvironmentVariable === undefined
      ? {}
      : { apiKeyEnvironmentVariable: choice.apiKeyEnvironmentVariable }),
    ...(choice.dimensions === undefined ? {} : { dimensions: choice.dimensions }),
    ...(extra.batchSize === undefined ? {} : { batchSize: extra.batchSize }),
    replayCall: {
      ...(extra.replayInputs === undefined ? {} : { inputs: extra.replayInputs }),
      ...(choice.dimensions === undefined ? {} : { dimensions: choice.dimensions }),
      ...(choice.inputType === undefined ? {} : { inputType: choice.inputType }),
    },
  });
}

/** Engine settings from the choice (only those given, so the engine's defaults apply otherwise). */
export function engineSettings(choice: ModelChoice, model: EmbeddingModel, outputType?: OutputType) {
  // The input type sent: one the model lacks is said by the model's first call (see `openChoice`), not
  // by the engine as the job starts, before it knows whether anything is sent.
  const inputType = sentInputType(model, choice.inputType);
  return {
    model,
    ...(inputType === undefined ? {} : { inputType }),
    ...(choice.dimensions === undefined ? {} : { dimensions: choice.dimensions }),
    ...(choice.maxRetries === undefined ? {} : { maxRetries: choice.maxRetries }),
    ...(choice.timeoutMs === undefined ? {} : { timeoutMs: choice.timeoutMs }),
    ...(outputType === undefined ? {} : { outputType }),
    // Each distinct warning once, as it happens.
    onWarning: (warning: Warning) => printWarning(warning.message),
  };
}

/** The model's full id as the user writes it. */
export function fullModelId(choice: Pick<ModelChoice, 'provider' | 'modelId'>): string {
  return `${choice.provider}:${choice.modelId}`;
}
