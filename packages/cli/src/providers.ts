import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EmbeddingCapabilities, EmbeddingModel, EmbeddingProvider } from '@embedkit/core';
import { closestName, loadApiKey } from '@embedkit/core/provider';
import type { Cassette, ReplayFetch, recordedInputs } from '@embedkit/replay';
import { shownBaseURL } from './common.js';
import { CliError, EXIT } from './errors.js';

/** Providers maintained in the embedkit repository; others are found among installed `@embedkit/provider-*` packages. */
export const KNOWN_PROVIDERS = ['openai', 'voyage', 'gemini', 'jina'] as const;

/** The pseudo-provider for any server that speaks OpenAI's `/embeddings` wire (vLLM, TEI, Ollama, gateways). */
export const OPENAI_COMPATIBLE = 'openai-compatible';

export type ProviderModule = Record<string, unknown>;

export function packageName(provider: string): string {
  return `@embedkit/provider-${provider === OPENAI_COMPATIBLE ? 'openai' : provider}`;
}

/** Whether `error` says that the package `name` itself could not be found (not one of its imports). */
export function isPackageMissing(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown })?.code;
  const message = (error as { message?: unknown })?.message;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  );
}

/**
 * Imports `@embedkit/provider-<name>`: first as the CLI itself resolves it (installed beside the CLI,
 * or globally with it), then from the current directory's project. A package that is absent is an
 * error naming what to install; one that is present but fails to load says so.
 */
export async function loadProvider(provider: string): Promise<ProviderModule> {
  const name = packageName(provider);
  try {
    return (await import(name)) as ProviderModule;
  } catch (error) {
    if (!isPackageMissing(error, name)) throw loadFailure(name, error);
  }
  let path: string;
  try {
    path = createRequire(join(process.cwd(), 'package.json')).resolve(name);
  } catch {
    throw notInstalled(provider);
  }
  try {
    return (await import(pathToFileURL(path).href)) as ProviderModule;
  } catch (error) {
    throw loadFailure(name, error);
  }
}

/**
 * A provider that could not be found. For one of embedkit's own, the package to install; for any other
 * name (there is no such package to install), the providers that exist, and the one it may be a typo of.
 */
function notInstalled(provider: string): CliError {
  if ((KNOWN_PROVIDERS as readonly string[]).includes(provider) || provider === OPENAI_COMPATIBLE) {
    const name = packageName(provider);
    return new CliError(
      `The "${provider}" provider is not installed. Install it with:\n  npm install ${name}`,
    );
  }
  const suggestion = closestName(provider, [...KNOWN_PROVIDERS, OPENAI_COMPATIBLE]);
  const guess =
    suggestion === undefined ? '' : ` Did you mean "${suggestion}"? (npm install ${packageName(suggestion)})`;
  // A name that is no provider is a wrong option (exit 2, as the README's table of exit codes says); a
  // known provider that is not installed is the machine's state, not the command's (exit 1).
  return new CliError(
    `There is no "${provider}" provider.${guess}\nembedkit's providers are ${KNOWN_PROVIDERS.join(', ')} (npm install @embedkit/provider-<name>), and ${OPENAI_COMPATIBLE} with --base-url for any server that speaks OpenAI's /embeddings (vLLM, TEI, Ollama, gateways).`,
    EXIT.usage,
  );
}

function loadFailure(name: string, error: unknown): CliError {
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(
    `${name} is installed but could not be loaded: ${message}\nReinstall it (in the embedkit repository: build it with "npm run build").`,
  );
}

/** Settings handed to a provider's factory. Every embedkit provider accepts these keys. */
export interface ProviderSettings {
  baseURL?: string;
  apiKey?: string;
  fetch?: ReplayFetch['fetch'];
}

export interface ModelOptions {
  provider: string;
  modelId: string;
  baseURL?: string;
  /** The environment variable that holds the key, instead of the provider's usual one. */
  apiKeyEnvironmentVariable?: string;
  replay?: string;
  /** openai-compatible only: the vector length the server was asked for, allowed as a capability. */
  dimensions?: number;
  /** openai-compatible only: inputs per call the server accepts. */
  batchSize?: number;
  /** For `--replay`: the call the command will make, to pick the matching cassettes. */
  replayCall?: { inputs?: string[]; dimensions?: number; inputType?: string };
}

export interface OpenedModel {
  model: EmbeddingModel;
  /** Releases what the model holds (nothing today; kept so that every command closes what it opens). */
  close(): Promise<void>;
}

function findExport(module: ProviderModule, lowerName: string): unknown {
  for (const [key, value] of Object.entries(module)) if (key.toLowerCase() === lowerName) return value;
  return undefined;
}

/** The provider's factory: the export named `create<Name>` (any case), e.g. `createOpenAI`, `createVoyage`. */
function factoryOf(
  module: ProviderModule,
  provider: string,
): ((settings: ProviderSettings) => EmbeddingProvider) | undefined {
  const factory = findExport(module, `create${provider.replaceAll('-', '')}`);
  return typeof factory === 'function'
    ? (factory as (settings: ProviderSettings) => EmbeddingProvider)
    : undefined;
}

/**
 * Whether a name given to `--api-key-env` reads as a variable's name, and may be shown: upper case, and
 * either short or with an underscore (`TEAM_OPENAI_KEY`). A key pasted in its place (upper-case hex, a
 * provider's prefix and digits) is not echoed.
 */
function looksLikeVariableName(name: string): boolean {
  return /^[A-Z][A-Z0-9_]*$/.test(name) && name.length <= 64 && (name.includes('_') || name.length <= 16);
}

/** Builds the model for `provider:modelId`, wiring `--base-url`, `--api-key-env` and `--replay` into the provider's settings. */
export async function openModel(options: ModelOptions): Promise<OpenedModel> {
  const { provider, modelId } = options;
  const module = await loadProvider(provider);
  const settings: ProviderSettings = {};
  if (options.baseURL !== undefined) settings.baseURL = options.baseURL;
  const keyVariable = options.apiKeyEnvironmentVariable;
  if (options.replay !== undefined) {
    settings.fetch = (await openReplay(options.replay, provider, modelId, options.replayCall)).fetch;
    // Cassettes hold no key and the replay checks none: a placeholder means no real key is ever read.
    settings.apiKey = 'replay';
  } else if (keyVariable !== undefined) {
    const key = process.env[keyVariable];
    if (key === undefined || key.trim() === '') {
      const named = looksLikeVariableName(keyVariable)
        ? keyVariable
        : 'the variable (its name is not shown: it does not look like one, and may be the key itself)';
      throw new CliError(
        `${provider} needs an API key: ${named} (named by --api-key-env) is ${key === undefined ? 'not set' : 'empty'}.`,
      );
    }
    // Read as the provider reads its own variable, so that a key the HTTP header cannot carry (a space
    // or a line break inside it) is refused now, naming the variable rather than an "apiKey setting".
    settings.apiKey = loadApiKey({ apiKey: undefined, environmentVariables: [keyVariable], provider });
  }
  let factoryProvider: EmbeddingProvider;
  if (provider === OPENAI_COMPATIBLE) {
    if (options.baseURL === undefined) {
      throw new CliError(
        'The openai-compatible provider needs --base-url (or EMBEDKIT_BASE_URL), e.g. --base-url http://localhost:8000/v1.',
      );
    }
    const create = module.createOpenAICompatible;
    if (typeof create !== 'function')
      throw new CliError('@embedkit/provider-openai exports no createOpenAICompatible.');
    const capabilities: Partial<EmbeddingCapabilities> = {};
    if (options.batchSize !== undefined) capabilities.maxInputsPerCall = options.batchSize;
    // The server decides which lengths it accepts; asking for one is the user's statement that it does.
    if (options.dimensions !== undefined)
      capabilities.dimensions = { min: 1, max: Math.max(options.dimensions, 1) };
    factoryProvider = (create as (settings: Record<string, unknown>) => EmbeddingProvider)({
      name: OPENAI_COMPATIBLE,
      ...settings,
      capabilities,
    });
  } else {
    const factory = factoryOf(module, provider);
    if (factory === undefined) {
      // The name `factoryOf` looks for: a dash cannot be part of it (`foo-bar` is `createFooBar`).
      const words = provider.split('-').map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`);
      const factoryName = `create${words.join('')}`;
      throw new CliError(
        `${packageName(provider)} exports no ${factoryName} factory; is it an embedkit provider?`,
      );
    }
    factoryProvider = factory(settings);
  }
  if (typeof factoryProvider?.embedding !== 'function') {
    throw new CliError(`${packageName(provider)} does not create embedding models.`);
  }
  const model = factoryProvider.embedding(modelId);
  if (openedReplay !== undefined && options.replay !== undefined)
    openedReplay.root = model.customBaseURL?.() ?? options.baseURL;
  return { model, close: async () => {} };
}

/** The variable each provider reads its API root from, for a message that says what to unset. */
const BASE_URL_VARIABLES: Record<string, string> = {
  openai: 'OPENAI_BASE_URL',
  voyage: 'VOYAGE_BASE_URL',
  gemini: 'GEMINI_BASE_URL or GOOGLE_GEMINI_BASE_URL',
  jina: 'JINA_BASE_URL',
};

/** What a replay knows for a message about a request no recording matched. */
interface OpenReplay {
  directory: string;
  provider: string;
  modelId: string;
  /** The inputs of the command's call, when the command knows them up front (`embed`, `search`). */
  inputs: string[] | undefined;
  /** What the cassettes answering this run were recorded with, as `@embedkit/replay` lists it. */
  recorded: ReturnType<typeof recordedInputs>;
  /** The method and path (no query) of every recorded request, e.g. `POST /v1/embeddings`. */
  paths: Set<string>;
  /** The API root the provider sends to when it is not its own host (`--base-url`, a variable). */
  root?: string | undefined;
  replay: ReplayFetch;
}

/** The replay of this run, if any: one command opens at most one model. */
let openedReplay: OpenReplay | undefined;

/**
 * A replay over the cassettes of `directory`. Each recording answers one request whose path and body
 * equal its own; the cassettes are narrowed to the one recorded for exactly this call when there is one,
 * else to this model's, so that a recording of another call cannot answer.
 */
async function openReplay(
  directory: string,
  provider: string,
  modelId: string,
  call: ModelOptions['replayCall'],
): Promise<ReplayFetch> {
  const [{ createReplayFetch, recordedInputs }, { readCassetteDirectory }] = await Promise.all([
    import('@embedkit/replay'),
    import('@embedkit/replay/node'),
  ]);
  let cassettes: Cassette[];
  try {
    cassettes = readCassetteDirectory(directory);
  } catch (error) {
    throw new CliError(`cannot read cassettes from ${directory}: ${(error as Error).message}`);
  }
  if (cassettes.length === 0) throw new CliError(`${directory} holds no cassettes (*.json files).`);
  const forModel = cassettes.filter((cassette) => cassette.call.modelId === modelId);
  const exact =
    call?.inputs === undefined
      ? []
      : forModel.filter(
          (cassette) =>
            JSON.stringify(cassette.call.inputs) === JSON.stringify(call.inputs) &&
            cassette.call.dimensions === call.dimensions &&
            cassette.call.inputType === call.inputType,
        );
  const chosen = exact.length > 0 ? exact.slice(0, 1) : forModel.length > 0 ? forModel : cassettes;
  const replay = createReplayFetch(chosen);
  openedReplay = {
    directory,
    provider,
    modelId,
    inputs: call?.inputs,
    recorded: recordedInputs(chosen),
    paths: new Set(
      chosen.flatMap((cassette) =>
        cassette.interactions.map(({ request }) => `${request.method} ${withoutQuery(request.path)}`),
      ),
    ),
    replay,
  };
  return replay;
}

function withoutQuery(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/**
 * A refused request whose path no recording has, sent through an API root of the user's own (a gateway's
 * `OPENAI_BASE_URL`), whose path the provider put in front: no input could have matched. Says so, and
 * what to do.
 */
function pathMismatchReport(replayed: OpenReplay, method: string, path: string): string | undefined {
  const { directory, provider, modelId, root } = replayed;
  const sent = `${method} ${withoutQuery(path)}`;
  // Recordings of other calls only (a rerank's, for an embedding) are told by the inputs they hold.
  if (root === undefined || replayed.paths.has(sent)) return undefined;
  const recordedAt = [...replayed.paths].join(', ');
  const head = `no recording matches ${sent} in ${directory} (${provider}:${modelId}): the recordings were made at ${recordedAt}.`;
  const variable = BASE_URL_VARIABLES[provider];
  const sources = `--base-url, EMBEDKIT_BASE_URL${variable === undefined ? '' : ` or ${variable}`}`;
  return `${head}\nThis run sends to the API root ${shownBaseURL(root)} (from ${sources}), whose path comes before every request. With --replay, unset that variable, or pass --base-url with the root the cassettes were recorded at.`;
}

/** Shortens a text for a one-line listing. */
function excerpt(text: string, length = 70): string {
  const flat = text.replace(/\s+/g, ' ');
  return JSON.stringify(flat.length > length ? `${flat.slice(0, length - 1)}…` : flat);
}

/**
 * When this run's replay refused a request, the message to show instead of the API-style 418: no
 * recording matches, and the inputs the recordings do hold.
 */
export function replayMismatchReport(): string | undefined {
  if (openedReplay === undefined || openedReplay.replay.mismatches.length === 0) return undefined;
  const { directory, provider, modelId, inputs, recorded, replay } = openedReplay;
  const request = replay.mismatches[0]!;
  const pathMismatch = pathMismatchReport(openedReplay, request.method, request.path);
  if (pathMismatch !== undefined) return pathMismatch;
  const what =
    inputs === undefined
      ? `${request.method} ${request.path}`
      : `the input${inputs.length === 1 ? '' : 's'} ${inputs.map((input) => excerpt(input)).join(', ')}`;
  // A rerank or contextualized recording holds no inputs: its query and documents are what it was
  // recorded with, listed too, so that a directory of such recordings does not look empty.
  const lines = recorded.flatMap(({ cassette, modelId: recordedModel, inputs: texts, documents, query }) =>
    [
      ...(texts ?? []).map((input) => (typeof input === 'string' ? input : input.text)),
      ...(query === undefined ? [] : [query]),
      ...(documents ?? []).flat(),
    ].map((text) => `  ${excerpt(text)}  (cassette "${cassette}", ${recordedModel})`),
  );
  const shown = lines.slice(0, 12);
  if (lines.length > shown.length) shown.push(`  … and ${lines.length - shown.length} more`);
  // A recording of this very call whose query differs is the likelier story: it comes first.
  const moved = request.queryDiffers;
  const nearest =
    moved === undefined
      ? ''
      : `\nCassette "${moved.cassette}" has this call with the path ${moved.path}, but the query differs: record it again, or write the path as it is sent now (${request.path}).`;
  return `no recording matches ${what} in ${directory} (${provider}:${modelId}).${nearest}\nThe recordings hold these inputs:\n${shown.join('\n')}\nEmbed one of them, with the same options, or record a cassette for this call.`;
}

/** One model a provider package declares, with its capabilities. */
export interface KnownModel {
  provider: string;
  /** What the table is, from the export name: `embedding`, `multimodal`, `contextualized`. */
  kind: string;
  modelId: string;
  capabilities: EmbeddingCapabilities;
}

function looksLikeCapabilities(value: unknown): value is EmbeddingCapabilities {
  const candidate = value as Partial<EmbeddingCapabilities> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.maxInputsPerCall === 'number' &&
    Array.isArray(candidate.outputTypes) &&
    Array.isArray(candidate.modalities)
  );
}

/**
 * The capabilities a model table entry holds: the entry itself (`OPENAI_MODELS`), or its
 * `capabilities` field when the entry is a fuller profile (`JINA_EMBEDDING_MODELS`).
 */
function capabilitiesIn(entry: unknown): EmbeddingCapabilities | undefined {
  if (looksLikeCapabilities(entry)) return entry;
  if (typeof entry !== 'object' || entry === null || !('capabilities' in entry)) return undefined;
  const nested = (entry as { capabilities: unknown }).capabilities;
  return looksLikeCapabilities(nested) ? nested : undefined;
}

/**
 * The models a provider package declares: every export named `*_MODELS` that maps model ids to
 * embedding capabilities (`OPENAI_MODELS`, `VOYAGE_EMBEDDING_MODELS`, `GEMINI_MODELS`, …), or to
 * profiles holding them in a `capabilities` field (`JINA_EMBEDDING_MODELS`).
 */
export function modelsOf(provider: string, module: ProviderModule): KnownModel[] {
  const out: KnownModel[] = [];
  // The tables are named after the package (openai-compatible's are @embedkit/provider-openai's `OPENAI_MODELS`).
  const packageProvider = packageName(provider).slice('@embedkit/provider-'.length);
  const prefix = `${packageProvider.toUpperCase().replaceAll('-', '_')}_`;
  for (const [name, table] of Object.entries(module)) {
    if (!name.endsWith('_MODELS') || typeof table !== 'object' || table === null) continue;
    const entries = Object.entries(table as Record<string, unknown>).flatMap(([modelId, entry]) => {
      const capabilities = capabilitiesIn(entry);
      return capabilities === undefined ? [] : [{ modelId, capabilities }];
    });
    if (entries.length === 0) continue;
    const kind = name.startsWith(prefix)
      ? name.slice(prefix.length, -'_MODELS'.length).toLowerCase() || 'embedding'
      : name.toLowerCase();
    for (const { modelId, capabilities } of entries) out.push({ provider, kind, modelId, capabilities });
  }
  return out;
}

/**
 * Provider names to look at for `embedkit models`: the known ones plus every `@embedkit/provider-*`
 * folder in a `node_modules` above the CLI or the current directory.
 */
export function installedProviderNames(): string[] {
  const names = new Set<string>(KNOWN_PROVIDERS);
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let directory = resolve(start);
    for (;;) {
      const scope = join(directory, 'node_modules', '@embedkit');
      if (existsSync(scope)) {
        try {
          for (const entry of readdirSync(scope)) {
            const match = /^provider-([a-z0-9][a-z0-9-]*)$/.exec(entry);
            if (match) names.add(match[1]!);
          }
        } catch {
          // An unreadable folder hides nothing we could load anyway.
        }
      }
      const parent = dirname(directory);
      if (parent === directory) break;
      directory = parent;
    }
  }
  return [...names];
}
