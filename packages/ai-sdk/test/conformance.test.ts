import { fileURLToPath } from 'node:url';
import { createCohere } from '@ai-sdk/cohere';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import {
  type CreateModelOptions,
  describeEmbeddingProvider,
  openAICompatibleWire,
} from '@embedkit/conformance';
import { geminiEmbeddingWire } from '../../provider-gemini/test/gemini-wire.js';
import { fromAISDK } from '../src/index.js';
import { cohereWire } from './cohere-wire.js';
import { peerFinding } from './peer-evidence.js';
import { peerFetch } from './peer-fetch.js';

// Our suite against providers nobody here wrote: each AI SDK provider, wrapped by `fromAISDK`, through
// both transports and the generated scenarios, and through cassettes. Every expected failure names a
// behaviour of the provider itself; the `evidence` tests below show each one on the provider directly.

const cassettes = (provider: string) => fileURLToPath(new URL(`./cassettes/${provider}`, import.meta.url));

/** The provider's settings from what the suite hands over (a `fetch`, or undici's bound to a dispatcher). */
function peerSettings(options: CreateModelOptions) {
  return {
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    fetch: peerFetch(options),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  };
}

// A scenario the suite runs again with tiny batches (the splitting families) fails the same way there.
const bothModes = (failures: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(failures).flatMap(([id, reason]) => [
      [id, reason],
      [`tiny-batches/${id}`, reason],
    ]),
  );

const QUOTA_RETRIED = (provider: string) =>
  `${provider} reports a 429 for a used-up quota as an APICallError with isRetryable: true and no sign of the quota, so it is retried like a per-minute limit and ends as a RetryError, not a RateLimitError with quotaExhausted`;
const TOO_LARGE_UNMARKED = (provider: string) =>
  `${provider} reports the API's "request too large" 400 as a plain APICallError (isRetryable: false, nothing else set), the same as any bad request, so the call is not bisected`;
const UNKNOWN_OPTION_IGNORED = (provider: string) =>
  `${provider} reads its provider options with a lenient schema: a misspelt option is dropped without a word and the request is sent (the adapter cannot know another provider's options, so it passes them on)`;
const INDEX_IGNORED =
  "@ai-sdk/openai takes the vectors in the order of the answer's data list and never reads an item's index, so an answer with a duplicate or impossible index is accepted";
const MESSAGE_WAIT_UNREAD = (provider: string, form: string) =>
  `${provider} reads no wait from ${form}: its APICallError carries only the Retry-After header, so the engine falls back to its own backoff`;

/** @ai-sdk/google's own `taskType` option, on every item of every request (embedContent or batchEmbedContents). */
const googleTaskTypeOption = {
  name: 'taskType',
  options: { taskType: 'CLUSTERING' },
  onWire: (body: unknown) => {
    const { requests } = body as { requests?: { taskType?: string }[] };
    return [...new Set((requests ?? [body as { taskType?: string }]).map((item) => item.taskType))];
  },
  expected: ['CLUSTERING'],
};

describeEmbeddingProvider({
  name: 'ai-sdk-openai',
  baseURL: 'https://api.openai.com/v1',
  modelId: 'text-embedding-3-small',
  createModel: (options) =>
    fromAISDK(
      createOpenAI(peerSettings(options)).embedding(options.modelId),
      {
        maxTokensPerCall: 300_000,
        maxTokensPerInput: 8192,
        defaultDimensions: 1536,
        dimensions: { min: 1, max: 1536 },
        normalized: true,
      },
      { secrets: [options.apiKey] },
    ),
  wire: openAICompatibleWire({ path: '/v1/embeddings', maxInputsPerRequest: 2048 }),
  cassettes: cassettes('openai'),
  expectedFailures: {
    ...bothModes({
      'shuffled-indices':
        "@ai-sdk/openai returns the vectors in the order of the answer's data list and ignores each item's index, so an answer out of order gives inputs the wrong vectors",
      'error-batch-too-large-bisects': TOO_LARGE_UNMARKED('@ai-sdk/openai (max_tokens_per_request)'),
    }),
    'answer-duplicate-index': INDEX_IGNORED,
    'answer-index-out-of-range': INDEX_IGNORED,
    'error-429-quota-exhausted': QUOTA_RETRIED('@ai-sdk/openai (insufficient_quota)'),
    'option-unknown-refused': UNKNOWN_OPTION_IGNORED('@ai-sdk/openai'),
    'wait-message': MESSAGE_WAIT_UNREAD('@ai-sdk/openai', 'the message ("Please try again in 2.5s")'),
  },
  additionalTests: () => peerFinding.openai(),
});

describeEmbeddingProvider({
  name: 'ai-sdk-google',
  baseURL: 'https://generativelanguage.googleapis.com/v1beta',
  modelId: 'gemini-embedding-001',
  createModel: (options) =>
    fromAISDK(
      createGoogleGenerativeAI(peerSettings(options)).embedding(options.modelId),
      // Below 3,072 values Gemini's vectors are not unit length, and @ai-sdk/google passes them as they come.
      { maxTokensPerInput: 2048, defaultDimensions: 3072, dimensions: { min: 128, max: 3072 } },
      { secrets: [options.apiKey] },
    ),
  // The Gemini API's wire as @ai-sdk/google calls it (no query), with its own option in place of the
  // embedkit provider's.
  wire: { ...geminiEmbeddingWire(''), options: [googleTaskTypeOption] },
  cassettes: cassettes('google'),
  expectedFailures: {
    ...bothModes({
      'error-batch-too-large-bisects': TOO_LARGE_UNMARKED(
        '@ai-sdk/google (request payload size exceeds the limit)',
      ),
    }),
    'error-429-quota-exhausted': QUOTA_RETRIED(
      '@ai-sdk/google (RESOURCE_EXHAUSTED with a per-day QuotaFailure)',
    ),
    'option-unknown-refused': UNKNOWN_OPTION_IGNORED('@ai-sdk/google'),
    titles:
      "the AI SDK's specification has no per-input title and @ai-sdk/google no title option, so a Gemini title cannot be sent (the adapter warns that it was left out)",
    'wait-message': MESSAGE_WAIT_UNREAD('@ai-sdk/google', 'the message ("Please retry in 2.5s")'),
    'wait-structured-body': MESSAGE_WAIT_UNREAD('@ai-sdk/google', "the body's RetryInfo retryDelay"),
    'wait-capped': MESSAGE_WAIT_UNREAD(
      '@ai-sdk/google',
      "the body's RetryInfo retryDelay (so no wait reaches the cap)",
    ),
  },
  additionalTests: () => peerFinding.google(),
});

/** Cohere models the cassettes use, by vector length. */
const COHERE_LENGTHS: Record<string, number> = { 'embed-v4.0': 1536, 'embed-english-light-v3.0': 384 };

describeEmbeddingProvider({
  name: 'ai-sdk-cohere',
  baseURL: 'https://api.cohere.com/v2',
  modelId: 'embed-v4.0',
  createModel: (options) =>
    fromAISDK(
      createCohere(peerSettings(options)).embedding(options.modelId),
      // `dimensions: undefined`: @ai-sdk/cohere does not read the specification's dimensions option (see
      // the evidence below), so through the adapter the length is the model's own.
      { defaultDimensions: COHERE_LENGTHS[options.modelId] ?? 1536, dimensions: undefined },
      { secrets: [options.apiKey] },
    ),
  wire: cohereWire,
  cassettes: cassettes('cohere'),
  expectedFailures: {
    'option-unknown-refused': UNKNOWN_OPTION_IGNORED('@ai-sdk/cohere'),
    ...bothModes({
      'usage-missing':
        "@ai-sdk/cohere's answer schema requires meta.billed_units.input_tokens, so an answer without usage is refused whole (an InvalidResponseError) instead of embedded without usage",
    }),
  },
  additionalTests: () => peerFinding.cohere(),
});
