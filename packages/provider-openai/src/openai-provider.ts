import {
  checkCapabilityNames,
  checkProviderSettings,
  createTransport,
  describeValue,
  type EmbeddingCapabilities,
  InvalidArgumentError,
  loadApiKey,
  loadBaseURL,
  loadHeaderSetting,
  nonDefaultURL,
  PROVIDER_SETTING_NAMES,
  type ProviderOptionsFor,
  type ProviderSettings,
  type SettingNames,
} from '@embedkit/core/provider';
import { OpenAIEmbeddingModel } from './openai-embedding-model.js';
import {
  COMPATIBLE_DEFAULT_CAPABILITIES,
  type OpenAIEmbeddingModelId,
  type OpenAIProviderOptions,
  openAICapabilities,
} from './openai-options.js';

export interface OpenAIProviderSettings extends ProviderSettings {
  /** Default: the `OPENAI_API_KEY` environment variable, read when a call is made. */
  apiKey?: string | undefined;
  /** Default: the `OPENAI_BASE_URL` environment variable (read when a call is made, as OpenAI's own client does), else `https://api.openai.com/v1`. */
  baseURL?: string | undefined;
  /** Sent as `OpenAI-Organization`. Default: the `OPENAI_ORG_ID` environment variable, read when a call is made; none when unset. */
  organization?: string | undefined;
  /** Sent as `OpenAI-Project`. Default: the `OPENAI_PROJECT_ID` environment variable, read when a call is made; none when unset. */
  project?: string | undefined;
  /** Extra headers on every call. */
  headers?: Record<string, string> | undefined;
  /** `base64` (default: a tenth of the parsing cost) or `float`. */
  encodingFormat?: OpenAIEncodingFormat | undefined;
}

/** The values of `encoding_format` the API takes (`CreateEmbeddingRequest`). */
const ENCODING_FORMATS = ['base64', 'float'] as const;

/** How the API sends vectors: `base64` (the default, faster to read) or `float` (JSON numbers). */
export type OpenAIEncodingFormat = (typeof ENCODING_FORMATS)[number];

/**
 * The `encodingFormat` setting, `base64` when absent. Checked when the provider is made: the API answers
 * any other value (`'Float'`, `'float16'`) with a 400 on every call, which says nothing of the setting.
 */
function encodingFormatOf(value: unknown, provider: string): OpenAIEncodingFormat {
  if (value === undefined) return 'base64';
  if (!ENCODING_FORMATS.includes(value as OpenAIEncodingFormat)) {
    throw new InvalidArgumentError(
      `${provider}: encodingFormat must be one of ${ENCODING_FORMATS.map((format) => `'${format}'`).join(', ')}; got ${describeValue(value)}.`,
      { argument: 'encodingFormat' },
    );
  }
  return value as OpenAIEncodingFormat;
}

/**
 * An OpenAI provider, or a compatible one: `Name` is its name, under which its models read
 * `providerOptions`. Default `string`: any provider of the kind, which a provider of a known name is too.
 * `P` follows `Name`, as it does for `OpenAIEmbeddingModel`. It is an `EmbeddingProvider` (what
 * `createRegistry` takes) for every name; it does not say so with `extends`, since the compiler cannot
 * relate the options of a name not yet chosen to the contract's.
 */
export interface OpenAIProvider<
  Name extends string = string,
  P extends Readonly<Record<string, unknown>> = ProviderOptionsFor<Name, OpenAIProviderOptions>,
> {
  /** An OpenAI embedding model, e.g. `text-embedding-3-small`. */
  embedding(modelId: OpenAIEmbeddingModelId): OpenAIEmbeddingModel<Name, P>;
}

/** OpenAI's API root, used unless the `baseURL` setting or `OPENAI_BASE_URL` names another. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

const OPENAI_SETTINGS: SettingNames<OpenAIProviderSettings> = {
  ...PROVIDER_SETTING_NAMES,
  apiKey: true,
  baseURL: true,
  organization: true,
  project: true,
  headers: true,
  encodingFormat: true,
};

/** An OpenAI provider. Settings are read once; the API key is read at each call. */
export function createOpenAI(settings: OpenAIProviderSettings = {}): OpenAIProvider<'openai'> {
  checkProviderSettings(settings, OPENAI_SETTINGS, 'createOpenAI');
  const transport = createTransport(settings);
  const encodingFormat = encodingFormatOf(settings.encodingFormat, 'openai');
  const loadedBaseURL = () =>
    loadBaseURL({
      baseURL: settings.baseURL,
      environmentVariables: ['OPENAI_BASE_URL'],
      defaultURL: OPENAI_BASE_URL,
      provider: 'openai',
    });
  const baseURL = () => loadedBaseURL().url;
  const headers = () => {
    const apiKey = loadApiKey({
      apiKey: settings.apiKey,
      environmentVariables: ['OPENAI_API_KEY'],
      provider: 'openai',
    });
    const out: Record<string, string> = { authorization: `Bearer ${apiKey}` };
    const secrets = [apiKey];
    // Read at each call from the setting, else the variable OpenAI's own client reads; none when unset.
    const organization = loadHeaderSetting({
      value: settings.organization,
      setting: 'organization',
      environmentVariables: ['OPENAI_ORG_ID'],
      provider: 'openai',
    });
    const project = loadHeaderSetting({
      value: settings.project,
      setting: 'project',
      environmentVariables: ['OPENAI_PROJECT_ID'],
      provider: 'openai',
    });
    // Not credentials, but they name the account: redacted from errors as recordings drop them.
    if (organization !== undefined) {
      out['openai-organization'] = organization;
      secrets.push(organization);
    }
    if (project !== undefined) {
      out['openai-project'] = project;
      secrets.push(project);
    }
    return { headers: { ...out, ...settings.headers }, secrets };
  };
  return {
    embedding(modelId) {
      return new OpenAIEmbeddingModel(modelId, {
        provider: 'openai',
        baseURL,
        baseURLOrigin: () => loadedBaseURL().origin,
        customBaseURL: () => nonDefaultURL(baseURL(), [OPENAI_BASE_URL]),
        headers,
        transport,
        capabilities: openAICapabilities(modelId),
        encodingFormat,
        rateLimiter: settings.rateLimit,
        ...(settings.maxResponseBytes === undefined ? {} : { maxResponseBytes: settings.maxResponseBytes }),
      });
    },
  };
}

/** The default OpenAI provider: key from `OPENAI_API_KEY`, API root from `OPENAI_BASE_URL` when set. */
export const openai: OpenAIProvider<'openai'> = createOpenAI();

/** Settings of `createOpenAICompatible`; `Name` follows `name`, the key of the provider's `providerOptions`. */
export interface OpenAICompatibleSettings<Name extends string = string> extends ProviderSettings {
  /** Provider name in errors, results and `providerOptions`, e.g. `onerouter`, `azure`, `vllm`. */
  name: Name;
  /** The API root that `/embeddings` is appended to, e.g. `https://llm.onerouter.pro/v1`. */
  baseURL: string;
  /** The key. Omit for servers that need none (local vLLM, TEI, Ollama). */
  apiKey?: string | undefined;
  /** Read the key from this environment variable at call time when `apiKey` is not given. */
  apiKeyEnvironmentVariable?: string | undefined;
  /** Header that carries the key: `authorization` (default, as `Bearer <key>`) or e.g. `api-key` for Azure OpenAI. */
  apiKeyHeader?: string | undefined;
  /** Query parameters on every call, e.g. `{ 'api-version': '2024-10-21' }` for Azure OpenAI. */
  queryParams?: Record<string, string> | undefined;
  headers?: Record<string, string> | undefined;
  /** Default `base64`; use `float` for servers that reject it. A float answer to a base64 request is accepted either way. */
  encodingFormat?: OpenAIEncodingFormat | undefined;
  /** Capabilities for every model, or per model id. Default: 128 inputs per call, text only, float only. */
  capabilities?:
    | (Partial<EmbeddingCapabilities> | ((modelId: string) => Partial<EmbeddingCapabilities>))
    | undefined;
}

/** Query parameters whose values are never credentials, so errors may show them. */
const PUBLIC_QUERY_PARAMETERS = new Set(['api-version']);

const COMPATIBLE_SETTINGS: SettingNames<OpenAICompatibleSettings> = {
  ...PROVIDER_SETTING_NAMES,
  name: true,
  baseURL: true,
  apiKey: true,
  apiKeyEnvironmentVariable: true,
  apiKeyHeader: true,
  queryParams: true,
  headers: true,
  encodingFormat: true,
  capabilities: true,
};

/** A provider for any server that speaks OpenAI's `/embeddings` wire: OneRouter, Azure OpenAI, vLLM, TEI, Ollama. */
export function createOpenAICompatible<const Name extends string = string>(
  settings: OpenAICompatibleSettings<Name>,
): OpenAIProvider<Name> {
  if (settings === undefined) {
    throw new InvalidArgumentError(
      "createOpenAICompatible takes its settings, e.g. createOpenAICompatible({ name: 'vllm', baseURL: 'http://localhost:8000/v1' }).",
      { argument: 'settings' },
    );
  }
  checkProviderSettings(settings, COMPATIBLE_SETTINGS, 'createOpenAICompatible');
  checkCapabilityNames(settings.capabilities, 'createOpenAICompatible capabilities');
  if (typeof settings.name !== 'string' || settings.name.trim() === '') {
    throw new InvalidArgumentError(
      "createOpenAICompatible needs a name, the provider's name in errors, results and providerOptions, e.g. name: 'vllm'.",
      { argument: 'name' },
    );
  }
  const transport = createTransport(settings);
  const encodingFormat = encodingFormatOf(settings.encodingFormat, settings.name);
  // Required and fixed: checked here, so that a missing or malformed one fails at once, not as a network error.
  if (settings.baseURL === undefined) {
    throw new InvalidArgumentError(`${settings.name}: baseURL is required, e.g. http://localhost:8000/v1.`, {
      argument: 'baseURL',
    });
  }
  const { url: compatibleBaseURL, origin: compatibleOrigin } = loadBaseURL({
    baseURL: settings.baseURL,
    environmentVariables: [],
    defaultURL: settings.baseURL,
    provider: settings.name,
  });
  const keyHeader = (settings.apiKeyHeader ?? 'authorization').toLowerCase();
  // Some servers take the key as a query parameter (Azure Functions `code`, SAS `sig`, a gateway's
  // `token`, under any name): every value is redacted from errors except those of parameters that never
  // carry a credential (Azure's `api-version` is what a version error names). Core's requestJson redacts
  // the base URL's userinfo and the auth headers by itself.
  const querySecrets = Object.entries(settings.queryParams ?? {})
    .filter(([name]) => !PUBLIC_QUERY_PARAMETERS.has(name.toLowerCase()))
    .map(([, value]) => value);
  const headers = () => {
    const needsKey = settings.apiKey !== undefined || settings.apiKeyEnvironmentVariable !== undefined;
    if (!needsKey) return { headers: { ...settings.headers }, secrets: [...querySecrets] };
    const apiKey = loadApiKey({
      apiKey: settings.apiKey,
      environmentVariables:
        settings.apiKeyEnvironmentVariable === undefined ? [] : [settings.apiKeyEnvironmentVariable],
      provider: settings.name,
    });
    const value = keyHeader === 'authorization' ? `Bearer ${apiKey}` : apiKey;
    return { headers: { [keyHeader]: value, ...settings.headers }, secrets: [apiKey, ...querySecrets] };
  };
  return {
    embedding(modelId) {
      const custom =
        typeof settings.capabilities === 'function' ? settings.capabilities(modelId) : settings.capabilities;
      if (typeof settings.capabilities === 'function') {
        checkCapabilityNames(custom, `createOpenAICompatible capabilities(${JSON.stringify(modelId)})`);
      }
      return new OpenAIEmbeddingModel(modelId, {
        provider: settings.name,
        baseURL: () => compatibleBaseURL,
        baseURLOrigin: () => compatibleOrigin,
        // A compatible server has no default: its base URL always tells it apart.
        customBaseURL: () => compatibleBaseURL,
        headers,
        ...(settings.queryParams === undefined ? {} : { queryParams: settings.queryParams }),
        transport,
        capabilities: { ...COMPATIBLE_DEFAULT_CAPABILITIES, ...custom },
        encodingFormat,
        rateLimiter: settings.rateLimit,
        ...(settings.maxResponseBytes === undefined ? {} : { maxResponseBytes: settings.maxResponseBytes }),
      });
    },
  };
}
