/**
 * Deliberately broken providers, one realistic bug each. `caughtBy` names every scenario that must reject
 * the mutant, and no other may: the suite's test runs the whole suite of the mutant's group against it
 * and compares (a `tiny-batches/` re-run of a named scenario counts as that scenario). Each mutant
 * derives from a correct reference: `embeddings` (Acme on core's helpers), `embeddings-fetch` (Acme on
 * plain fetch), `contextualized`, `rerank`, `rerank-listwise` (a reranker whose scores do not compare
 * across calls) or `batch-jobs`.
 */
import {
  AuthenticationError,
  type BatchJobCallOptions,
  ConnectionError,
  type ContextualizedEmbedRequest,
  type ContextualizedEmbedResponse,
  type CreateBatchJobOptions,
  createTransport,
  type Embedding,
  type EmbeddingCapabilities,
  EmbedKitError,
  type EmbedRequest,
  type EmbedResponse,
  InvalidResponseError,
  NotFoundError,
  type OutputType,
  PermissionDeniedError,
  RateLimitError,
  type RerankRequest,
  type RerankResponse,
  ServerError,
  TimeoutError,
  type Transport,
} from '@embedkit/core/provider';
import type { CreateModelOptions } from '../src/types.js';
import { AcmeFetchModel } from './fetch-reference-provider.js';
import {
  ACME_CONTEXTUALIZED_LIMITS,
  AcmeBatchJobs,
  AcmeContextualizedModel,
  AcmeListwiseRerankingModel,
  AcmeRerankingModel,
} from './reference-groups.js';
import {
  ACME_VERSION,
  AcmeEmbeddingModel,
  type AcmeItem,
  type AcmeSettings,
  acmeCapabilities,
  acmeOptionsSchema,
} from './reference-provider.js';

export type MutantSuite =
  | 'embeddings'
  | 'embeddings-fetch'
  | 'contextualized'
  | 'rerank'
  | 'rerank-listwise'
  | 'batch-jobs';

export interface Mutant {
  name: string;
  bug: string;
  suite: MutantSuite;
  caughtBy: string[];
  create(options: CreateModelOptions): unknown;
}

type Constructor<T> = new (modelId: string, settings: AcmeSettings) => T;

function mutant<T>(
  suite: MutantSuite,
  name: string,
  bug: string,
  caughtBy: string[],
  Model: Constructor<T>,
): Mutant {
  return { name, bug, suite, caughtBy, create: ({ modelId, ...settings }) => new Model(modelId, settings) };
}

/** An answer as a provider that builds its response by hand reports it: without the request id the API sent. */
function withoutRequestId<A extends { response: { requestId?: string } }>(answer: A): A {
  const { requestId: _dropped, ...response } = answer.response;
  return { ...answer, response };
}

const CASSETTES = ['cassette/two inputs as queries', 'cassette/rate limited then answered'];

/** Acme declaring one input more per call than its API takes (with `also` declared beside it). */
function oneInputTooMany(name: string, bug: string, also: Partial<EmbeddingCapabilities> = {}): Mutant {
  return mutant(
    'embeddings',
    name,
    bug,
    ['declared-limits', 'split-at-max-inputs', 'split-above-max-inputs'],
    class extends AcmeEmbeddingModel {
      override readonly capabilities = {
        ...acmeCapabilities,
        maxInputsPerCall: acmeCapabilities.maxInputsPerCall + 1,
        ...also,
      };
    },
  );
}

/** `capabilities` without a token budget per call. */
function withoutTokenBudget(capabilities: EmbeddingCapabilities): EmbeddingCapabilities {
  const { maxTokensPerCall: _dropped, ...rest } = capabilities;
  return rest;
}

const WAITS = [
  'error-429-retry-after-seconds',
  'error-429-retry-after-http-date',
  'error-429-retry-after-milliseconds',
  'wait-capped',
  'wait-structured-body',
  'wait-message',
];

/** A transport that keeps the last response it saw, for mutants that misuse its headers or body. */
function recording(
  transport: Transport,
  keep: (response: { headers: Record<string, string>; text: string }) => void,
): Transport {
  return {
    kind: transport.kind,
    async request(request) {
      const response = await transport.request(request);
      keep({ headers: response.headers, text: Buffer.from(response.body).toString('utf8') });
      return response;
    },
  };
}

/** The reference, keeping the last response it received (headers and raw text). */
class RecordingModel extends AcmeEmbeddingModel {
  protected last: { headers: Record<string, string>; text: string } = { headers: {}, text: '' };
  constructor(modelId: string, settings: AcmeSettings) {
    super(modelId, settings);
    this.transport = recording(this.transport, (response) => {
      this.last = response;
    });
  }
}

/** Rethrows a rate-limit error with its wait replaced by `wait(headers)`. */
class RewaitingModel extends RecordingModel {
  protected wait(_headers: Record<string, string>): number | undefined {
    return undefined;
  }
  override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    try {
      return await super.doEmbed(request);
    } catch (error) {
      if (!RateLimitError.isInstance(error)) throw error;
      const retryAfterMs = this.wait(this.last.headers) ?? error.retryAfterMs;
      throw new RateLimitError(error.message, {
        statusCode: 429,
        provider: 'acme',
        quotaExhausted: error.quotaExhausted,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
  }
}

/** Rethrows every server error rebuilt from its message and status, with only the details `kept` names. */
class RebuildingServerErrors extends AcmeEmbeddingModel {
  protected kept(_error: ServerError): { requestId?: string; retryAfterMs?: number } {
    return {};
  }
  override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    try {
      return await super.doEmbed(request);
    } catch (error) {
      if (!ServerError.isInstance(error)) throw error;
      throw new ServerError(error.message, {
        statusCode: error.statusCode,
        provider: 'acme',
        ...this.kept(error),
      });
    }
  }
}

/**
 * Decodes by hand into typed arrays of their own, checking nothing but whole float32 values (unless
 * `partial`, which drops a trailing partial value); mutants change one detail of it.
 */
function decodeByHand(
  vectors: AcmeItem['embedding'][],
  outputType: OutputType,
  partial = false,
): Embedding[] {
  const signed = outputType === 'int8' || outputType === 'binary';
  return vectors.map((vector) => {
    if (Array.isArray(vector))
      return outputType === 'float'
        ? Float32Array.from(vector)
        : signed
          ? Int8Array.from(vector)
          : Uint8Array.from(vector);
    const bytes = new Uint8Array(Buffer.from(vector, 'base64'));
    if (outputType !== 'float') return signed ? new Int8Array(bytes.buffer) : bytes;
    if (bytes.length % 4 !== 0 && !partial)
      throw new InvalidResponseError('acme: a partial float32 value', { provider: 'acme' });
    return new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4));
  });
}

/** A wrong way to join a path to `baseURL`, and the base-url scenarios it fails (without a group's prefix). */
interface WrongJoin {
  name: string;
  bug(path: string): string;
  caughtBy: string[];
  join(baseURL: string, path: string): string;
}

const WRONG_JOINS: WrongJoin[] = [
  {
    name: 'ignores-base-url',
    bug: (path) => `sends \`${path}\` to the API's default base URL, whatever \`baseURL\` it was given`,
    caughtBy: ['base-url', 'base-url-trailing-slash'],
    join: (_baseURL, path) => `https://api.acme.test/v1${path}`,
  },
  {
    name: 'keeps-trailing-slash',
    bug: (path) =>
      `joins \`baseURL\` and the path as given, so a base URL ending in \`/\` makes \`/${path}\``,
    caughtBy: ['base-url-trailing-slash'],
    join: (baseURL, path) => `${baseURL}${path}`,
  },
  {
    name: 'drops-base-path',
    bug: (path) =>
      `resolves the API's full path \`/v1${path}\` against \`baseURL\` (\`new URL(path, baseURL)\`), which keeps only the base URL's origin`,
    caughtBy: ['base-url', 'base-url-trailing-slash'],
    join: (baseURL, path) => new URL(`/v1${path}`, baseURL).href,
  },
];

/**
 * `Reference` with every URL joined by `join`. Each reference builds its URLs in `url(path)`, which is
 * protected and so cannot be named in a type: the override is typed by the members it uses.
 */
function joiningUrls(Reference: Constructor<unknown>, join: WrongJoin['join']): Constructor<unknown> {
  const Joined = Reference as Constructor<{ readonly settings: AcmeSettings; url(path: string): string }>;
  return class extends Joined {
    override url(path: string) {
      return join(this.settings.baseURL, path);
    }
  };
}

/**
 * Each group whose reference joins every path to `baseURL` in `url()`, so that one override breaks them
 * all: its mutants' name prefix, its scenarios' id prefix, the path of its main call, its reference.
 */
const JOINING_GROUPS: [MutantSuite, string, string, string, Constructor<unknown>][] = [
  ['embeddings', '', '', '/embeddings', AcmeEmbeddingModel],
  ['batch-jobs', 'batch-', '', '/batches', AcmeBatchJobs],
  ['contextualized', 'ctx-', 'ctx-', '/contextualized', AcmeContextualizedModel],
  ['rerank', 'rerank-', 'rerank-', '/rerank', AcmeRerankingModel],
];

/**
 * Acme with each request's headers changed by `rewrite` on their way to the transport, after core's
 * request has set its own.
 */
function rewritingHeaders(
  rewrite: (headers: Record<string, string>, settings: AcmeSettings) => Record<string, string>,
): Constructor<AcmeEmbeddingModel> {
  return class extends AcmeEmbeddingModel {
    constructor(modelId: string, settings: AcmeSettings) {
      super(modelId, settings);
      const inner = this.transport;
      this.transport = {
        kind: inner.kind,
        request: (request) => inner.request({ ...request, headers: rewrite(request.headers, settings) }),
      };
    }
  };
}

/** The method of each group's model that makes a call, given the call's request with its `headers`. */
type CallMethod = 'doEmbed' | 'doEmbedContextualized' | 'doRerank';

/** `Reference` with each call's headers merged into the object of its `headers` setting before `method` sends it. */
function keepingCallHeaders(Reference: Constructor<unknown>, method: CallMethod): Constructor<unknown> {
  type Call = (request: { headers?: Record<string, string> }) => unknown;
  const Keeping = Reference as Constructor<{ readonly settings: AcmeSettings } & Record<CallMethod, Call>>;
  return class extends Keeping {
    constructor(modelId: string, settings: AcmeSettings) {
      super(modelId, settings);
      const send = this[method].bind(this);
      this[method] = (request) =>
        send({ ...request, headers: Object.assign(this.settings.headers ?? {}, request.headers) });
    }
  };
}

/** Each group whose model makes its calls by one method: its suite, its mutants' and scenarios' prefix, what a call is. */
const KEEPING_GROUPS: [MutantSuite, string, string, CallMethod, Constructor<unknown>][] = [
  ['embeddings', '', 'call', 'doEmbed', AcmeEmbeddingModel],
  ['contextualized', 'ctx-', 'contextualized call', 'doEmbedContextualized', AcmeContextualizedModel],
  ['rerank', 'rerank-', 'rerank call', 'doRerank', AcmeRerankingModel],
];

/** Acme with every error of a call replaced, on its way out, by what `replace` makes of it (itself, or another). */
function rethrowing(replace: (error: unknown) => unknown): Constructor<AcmeEmbeddingModel> {
  return class extends AcmeEmbeddingModel {
    override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
      try {
        return await super.doEmbed(request);
      } catch (error) {
        throw replace(error);
      }
    }
  };
}

export const mutants: Mutant[] = [
  // ------------------------------------------------------------------ the first twelve
  mutant(
    'embeddings',
    'ignores-index-order',
    'keeps vectors in the order they arrive instead of placing each at its `index`',
    [
      'shuffled-indices',
      'answer-duplicate-index',
      'answer-index-out-of-range',
      'cassette/two inputs as queries',
    ],
    class extends AcmeEmbeddingModel {
      protected override order(data: AcmeItem[]) {
        return data.map((item) => item.embedding);
      }
    },
  ),
  mutant(
    'embeddings',
    'drops-dimensions',
    'never sends `dimensions`, so the API answers with its default length',
    ['dimensions-honoured', 'dimensions-min', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const { dimensions: _dropped, ...body } = super.requestBody(request);
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'body-as-text',
    'sends its JSON body labelled `content-type: text/plain`, which the API refuses',
    // The cassettes record the content type each request sent.
    ['single', ...CASSETTES],
    rewritingHeaders((headers) => ({ ...headers, 'content-type': 'text/plain' })),
  ),
  mutant(
    'embeddings',
    'drops-version-header',
    'leaves out the `acme-version` header, so the API answers in the format of its oldest version',
    // Only the cassettes know the header: they record what each request sent.
    CASSETTES,
    rewritingHeaders(({ 'acme-version': _dropped, ...headers }) => headers),
  ),
  mutant(
    'embeddings',
    'request-headers-in-result',
    "reports the request's headers, the key's among them, as the answer's headers",
    ['single'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        const answer = await super.doEmbed(request);
        const headers = { ...answer.response.headers, authorization: `Bearer ${this.settings.apiKey}` };
        return { ...answer, response: { ...answer.response, headers } };
      }
    },
  ),
  mutant(
    'embeddings',
    'drops-request-id',
    'reports the answer without the request id the API sent',
    // The engine names a NaN or an infinity by the answer's response, whether decoded from base64, read
    // in place, or copied from a JSON number beyond float32.
    ['single', 'nan-in-vector', 'answer-nan-base64', 'answer-infinity-base64', 'answer-infinity-float'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        return withoutRequestId(await super.doEmbed(request));
      }
    },
  ),
  mutant(
    'embeddings',
    'drops-error-request-id',
    "rebuilds a refused call's error from its message and status, losing the request id the API sent",
    ['error-400', 'error-401', 'error-403', 'error-404'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (
            !EmbedKitError.isInstance(error) ||
            error.requestId === undefined ||
            error.isRetryable ||
            (error.statusCode ?? 0) < 400
          )
            throw error;
          const Rebuilt = error.constructor as new (message: string, details: object) => Error;
          throw new Rebuilt(error.message, { provider: error.provider, statusCode: error.statusCode });
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'fills-caller-titles',
    "gives each of the caller's `{ text }` inputs an empty title, in place",
    ['structured-text-inputs'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        for (const input of request.inputs)
          if (typeof input === 'object' && 'text' in input && input.title === undefined)
            (input as { title?: string }).title = '';
        return super.doEmbed(request);
      }
    },
  ),
  mutant(
    'embeddings',
    'retries-401',
    'turns every failure into a retryable server error, so a bad key is retried',
    ['error-401'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (AuthenticationError.isInstance(error))
            throw new ServerError(error.message, { statusCode: error.statusCode, provider: 'acme' });
          throw error;
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'ignores-retry-after',
    're-wraps 429s without the server’s wait, so the engine backs off blindly',
    [...WAITS, 'cassette/rate limited then answered'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (RateLimitError.isInstance(error) && !error.quotaExhausted)
            throw new RateLimitError(error.message, { statusCode: 429, provider: 'acme' });
          throw error;
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'leaks-key',
    'puts the request headers, Authorization included, into its authentication errors',
    // It rebuilds the error, so the request id goes too.
    ['secret-redaction', 'error-401'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (AuthenticationError.isInstance(error))
            throw new AuthenticationError(
              `${error.message} (sent authorization: Bearer ${this.settings.apiKey})`,
              {
                statusCode: 401,
              },
            );
          throw error;
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'key-check-own-transport',
    'on a 401, asks `GET /models` whether the key was revoked through a transport of its own (core’s default), not the `fetch` or `dispatcher` it was given',
    ['error-401', 'secret-redaction'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (AuthenticationError.isInstance(error)) {
            // A best-effort check: whatever it finds, the original error is thrown.
            await createTransport({})
              .request({
                method: 'GET',
                url: `${this.settings.baseURL}/models`,
                headers: { authorization: `Bearer ${this.settings.apiKey}` },
                maxResponseBytes: 65_536,
              })
              .catch(() => undefined);
          }
          throw error;
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'returns-number-array',
    'returns JSON float answers as plain `number[]` instead of `Float32Array`',
    ['answer-in-the-other-encoding', 'vectors-own-their-memory'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        if (vectors.every(Array.isArray)) return vectors as unknown as Embedding[];
        return super.decode(vectors, outputType);
      }
    },
  ),
  oneInputTooMany('off-by-one-batch-limit', 'declares one input more per call than the API accepts'),
  // The input-limit scenarios plan by the declared budget, so they send inputs of a token each: the 17 of
  // them still go in one call, which the API refuses.
  oneInputTooMany(
    'off-by-one-batch-limit-small-budget',
    "declares one input more per call than the API accepts, beside a token budget of 200 a call that packs fewer of the suite's own inputs",
    { maxTokensPerCall: 200 },
  ),
  mutant(
    'embeddings',
    'wrong-usage-sum',
    'reports `total_tokens` of the request plus the prompt tokens again (double counting)',
    ['single', 'usage-summed', 'usage-missing', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      protected override usage(body: { usage?: { prompt_tokens?: number; total_tokens?: number } }) {
        return { inputTokens: (body.usage?.prompt_tokens ?? 0) + (body.usage?.total_tokens ?? 0) };
      }
    },
  ),
  mutant(
    'embeddings',
    'swallows-failed-batch',
    'answers a refused call (403, 404) with zero vectors instead of raising the error',
    ['error-403', 'error-404'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (!NotFoundError.isInstance(error) && !PermissionDeniedError.isInstance(error)) throw error;
          const dimensions = request.dimensions ?? acmeCapabilities.defaultDimensions!;
          return {
            embeddings: request.inputs.map(() => new Float32Array(dimensions)),
            warnings: [],
            response: { status: 200, headers: {} },
          };
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'wrong-input-type-mapping',
    'sends `query` for documents (a copy-paste slip in the mapping table)',
    ['input-type-document'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        if (request.inputType === 'document') body.input_type = 'query';
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'ignores-abort',
    'does not pass the call’s signal to the HTTP request, so aborts and timeouts never land',
    ['abort-during-request', 'timeout', 'abort-during-body', 'timeout-during-body'],
    class extends AcmeEmbeddingModel {
      protected override send(request: EmbedRequest) {
        const { signal: _ignored, ...rest } = request;
        return super.send(rest);
      }
    },
  ),
  // The bug above in the contextualized and rerank calls, each dropping the signal before the reference sends.
  ...(
    [
      [
        'contextualized',
        'ctx-',
        'a contextualized call',
        class extends AcmeContextualizedModel {
          override doEmbedContextualized({ signal: _ignored, ...request }: ContextualizedEmbedRequest) {
            return super.doEmbedContextualized(request);
          }
        },
      ],
      [
        'rerank',
        'rerank-',
        'a rerank call',
        class extends AcmeRerankingModel {
          override doRerank({ signal: _ignored, ...request }: RerankRequest) {
            return super.doRerank(request);
          }
        },
      ],
    ] as const
  ).map(([suite, prefix, call, Dropping]) =>
    mutant<unknown>(
      suite,
      `${prefix}ignores-abort`,
      `does not pass the call’s signal to the HTTP request of ${call}, so aborts and timeouts never land`,
      ['abort-during-request', 'timeout', 'abort-during-body', 'timeout-during-body'].map(
        (id) => `${prefix}${id}`,
      ),
      Dropping,
    ),
  ),
  mutant(
    'embeddings',
    'misreads-base64',
    'decodes base64 uint8 vectors as signed int8 bytes',
    ['output-type-uint8', 'vectors-own-their-memory', 'request-fields'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        return super.decode(vectors, outputType === 'uint8' ? 'int8' : outputType);
      }
    },
  ),

  // ------------------------------------------------------------------ declared capabilities
  mutant(
    'embeddings',
    'caps-dimensions',
    'clamps `dimensions` to a hard-coded 24, so the largest length is never asked',
    ['dimensions-max'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        if (typeof body.dimensions === 'number') body.dimensions = Math.min(body.dimensions, 24);
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'input-type-only-when-changed',
    'saves bytes by sending `input_type` only when it differs from the previous call’s',
    ['input-type-query', 'input-type-document'],
    class extends AcmeEmbeddingModel {
      private previous: unknown;
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        if (body.input_type !== undefined && body.input_type === this.previous) delete body.input_type;
        else this.previous = body.input_type;
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'swapped-int8-uint8',
    'asks for `uint8` when `int8` is wanted and the other way round',
    ['output-type-int8', 'output-type-uint8'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        if (body.output_dtype === 'int8') body.output_dtype = 'uint8';
        else if (body.output_dtype === 'uint8') body.output_dtype = 'int8';
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'forgets-bit-packed-types',
    'sends `output_dtype` for int8 and uint8 only, so binary and ubinary come back as floats',
    ['output-type-binary', 'output-type-ubinary', 'vectors-own-their-memory', 'request-fields'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        if (body.output_dtype === 'binary' || body.output_dtype === 'ubinary') delete body.output_dtype;
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'renormalizes-int8',
    'scales int8 vectors to unit length (x / |x| * 127) as if they were floats',
    ['output-type-int8'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        const decoded = super.decode(vectors, outputType);
        if (outputType !== 'int8') return decoded;
        return decoded.map((vector) => {
          const length = Math.hypot(...vector) || 1;
          return Int8Array.from(vector, (value) => Math.round((value / length) * 127));
        });
      }
    },
  ),
  mutant(
    'embeddings',
    'omits-truncation-false',
    'sends `truncate` only when it is true, leaving the API’s own truncation on',
    // Left on, the API's own truncation reaches the near-limit input too.
    ['truncate-off', 'text-near-token-limit', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        if (body.truncate === false) delete body.truncate;
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'ignores-truncate-true',
    'never sends `truncate: true` and says nothing about it',
    ['truncate-on'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        return { ...super.requestBody(request), truncate: false };
      }
    },
  ),
  mutant(
    'embeddings',
    'drops-user-option',
    'reads `providerOptions` but forgets to put `user` in the body',
    ['option-user'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const { user: _dropped, ...body } = super.requestBody(request);
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'lenient-options',
    'ignores options it does not know, so a misspelt option is silently dropped',
    ['option-unknown-refused'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const options = request.providerOptions?.acme ?? {};
        const known = acmeOptionsSchema.safeParse({
          ...(options.user === undefined ? {} : { user: options.user }),
        });
        return super.requestBody({ ...request, providerOptions: known.success ? { acme: known.data } : {} });
      }
    },
  ),
  mutant(
    'embeddings',
    'first-title-for-all',
    'sends the title of the first input for every input of the call',
    ['titles'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        const titles = body.titles as (string | null)[] | undefined;
        if (titles !== undefined) body.titles = titles.map(() => titles[0]);
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'stringifies-structured-inputs',
    'sends `String(input)` for `{ text }` inputs, i.e. "[object Object]"',
    ['structured-text-inputs', 'titles'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        return { ...super.requestBody(request), input: request.inputs.map((input) => String(input)) };
      }
    },
  ),

  // ------------------------------------------------------------------ real text
  ...(
    [
      [
        'replaces-newlines',
        'replaces newlines with spaces (an old embedding tip)',
        ['text-newlines', 'text-crlf'],
        (text: string) => text.replace(/\n/g, ' '),
      ],
      ['trims-inputs', 'trims every input', ['text-whitespace'], (text: string) => text.trim()],
      [
        'normalizes-unicode',
        'normalizes inputs to NFC, so e + U+0301 arrives as é',
        ['text-combining-marks'],
        (text: string) => text.normalize('NFC'),
      ],
      [
        'cuts-long-inputs',
        'cuts inputs to 4,000 characters "to be safe"',
        ['text-near-token-limit'],
        (text: string) => text.slice(0, 4_000),
      ],
      [
        'drops-astral-characters',
        'strips characters outside the BMP (surrogate pairs)',
        ['text-emoji'],
        (text: string) => text.replace(/[\uD800-\uDFFF]/g, ''),
      ],
      [
        'expands-tabs',
        'expands tabs to spaces',
        ['text-tabs'],
        (text: string) => text.replace(/\t/g, '    '),
      ],
      [
        'strips-direction-marks',
        'strips invisible direction marks (U+200E, U+200F) as noise',
        ['text-rtl'],
        (text: string) => text.replace(/[\u200E\u200F]/g, ''),
      ],
    ] as const
  ).map(([name, bug, caughtBy, change]) =>
    mutant(
      'embeddings',
      name,
      bug,
      [...caughtBy],
      class extends AcmeEmbeddingModel {
        protected override requestBody(request: EmbedRequest) {
          const body = super.requestBody(request);
          return { ...body, input: (body.input as string[]).map(change) };
        }
      },
    ),
  ),

  // ------------------------------------------------------------------ malformed answers
  mutant(
    'embeddings',
    'accepts-partial-bytes',
    'decodes base64 with Buffer and drops a trailing partial value',
    ['answer-partial-bytes'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        return outputType === 'float' && vectors.every((vector) => typeof vector === 'string')
          ? decodeByHand(vectors, outputType, true)
          : super.decode(vectors, outputType);
      }
    },
  ),
  mutant(
    'embeddings',
    'cuts-vectors-to-dimensions',
    'cuts every vector to the length asked, so a vector too long passes',
    [
      'answer-vector-too-long',
      'answer-extra-bytes',
      'answer-partial-bytes',
      'answer-wrong-length-int8',
      'answer-wrong-length-uint8',
      'answer-wrong-length-binary',
      'answer-wrong-length-ubinary',
    ],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        const bytes = (vector: AcmeItem['embedding']) =>
          typeof vector === 'string' ? Buffer.from(vector, 'base64').length : vector.length;
        const per = outputType === 'float' ? 4 : 1;
        const shortest = Math.min(
          ...vectors.map((vector) => (typeof vector === 'string' ? bytes(vector) / per : vector.length)),
        );
        return decodeByHand(vectors, outputType, true).map((vector) => vector.slice(0, Math.floor(shortest)));
      }
    },
  ),
  mutant(
    'embeddings',
    'pads-missing-vectors',
    'fills a vector the answer left out with zeros',
    ['wrong-vector-count'],
    class extends AcmeEmbeddingModel {
      protected override order(data: AcmeItem[], count: number) {
        const present = new Set(data.map((item) => item.index));
        const padded = [...data];
        for (let index = 0; index < count; index++)
          if (!present.has(index)) padded.push({ index, embedding: data[0]!.embedding });
        return super.order(padded, count);
      }
    },
  ),
  mutant(
    'embeddings',
    'drops-extra-vectors',
    'keeps the vectors whose index fits and drops the rest, so an answer with a vector too many passes',
    ['answer-extra-vector'],
    class extends AcmeEmbeddingModel {
      protected override order(data: AcmeItem[], count: number) {
        return super.order(
          data.filter((item) => item.index < count),
          count,
        );
      }
    },
  ),
  mutant(
    'embeddings',
    'unchecked-index',
    'places each vector at its `index` without checking for duplicates or gaps',
    ['answer-duplicate-index', 'answer-index-out-of-range', 'wrong-vector-count'],
    class extends AcmeEmbeddingModel {
      protected override order(data: AcmeItem[], count: number) {
        const ordered = new Array<AcmeItem['embedding']>(count);
        for (const item of data) ordered[item.index] = item.embedding;
        return ordered;
      }
    },
  ),
  mutant(
    'embeddings',
    'zeroes-non-finite',
    'replaces NaN and infinities with 0 "to keep going"',
    ['nan-in-vector', 'answer-nan-base64', 'answer-infinity-base64', 'answer-infinity-float'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        if (outputType !== 'float') return super.decode(vectors, outputType);
        return decodeByHand(vectors, outputType).map((vector) =>
          vector.map((value) => (Number.isFinite(value) ? value : 0)),
        );
      }
    },
  ),
  mutant(
    'embeddings',
    'rejects-float-answers',
    'refuses JSON floats where it asked for base64 (some compatible servers ignore the encoding)',
    ['answer-in-the-other-encoding', 'vectors-own-their-memory'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        if (vectors.some(Array.isArray))
          throw new InvalidResponseError('acme: expected base64 vectors', { provider: 'acme' });
        return super.decode(vectors, outputType);
      }
    },
  ),

  // ------------------------------------------------------------------ memory
  mutant(
    'embeddings',
    'slab-views',
    'decodes every vector of an answer into one buffer and returns views into it',
    ['vectors-own-their-memory'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        const decoded = super.decode(vectors, outputType);
        const total = decoded.reduce((sum, vector) => sum + vector.byteLength, 0);
        const slab = new Uint8Array(total);
        let offset = 0;
        return decoded.map((vector) => {
          slab.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), offset);
          const Class = vector.constructor as new (
            buffer: ArrayBuffer,
            offset: number,
            length: number,
          ) => Embedding;
          const view = new Class(slab.buffer, offset, vector.length);
          offset += vector.byteLength;
          return view;
        });
      }
    },
  ),
  mutant(
    'embeddings',
    'pooled-buffer-views',
    "views each vector into the bytes Buffer.from decoded, which sit in Node's shared 8 KiB pool",
    ['vectors-own-their-memory'],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        if (outputType !== 'float' || !vectors.every((vector) => typeof vector === 'string'))
          return super.decode(vectors, outputType);
        return vectors.map((vector) => {
          const bytes = Buffer.from(vector as string, 'base64');
          const whole = bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0;
          return whole
            ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
            : super.decode([vector], 'float')[0]!;
        });
      }
    },
  ),

  // ------------------------------------------------------------------ waits
  mutant(
    'embeddings',
    'retries-429-itself',
    'retries a 429 inside doEmbed with its own short sleep, out of the engine’s sight',
    // A 429 that must end the call (maxRetries 0) is retried anyway: one request more than was asked.
    [...WAITS, 'error-429-rate-limited', 'redaction-rate-limit', 'cassette/rate limited then answered'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (!RateLimitError.isInstance(error) || !error.isRetryable) throw error;
          await new Promise((resolve) => setTimeout(resolve, 5));
          return super.doEmbed(request);
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'ignores-body-retry-delay',
    'reads waits from headers and the message only, never the structured `retry_after`',
    ['wait-structured-body'],
    class extends AcmeEmbeddingModel {
      protected override parseError(body: unknown) {
        const { retry_after: _ignored, ...error } = (body as { error?: Record<string, unknown> }).error ?? {};
        return super.parseError({ error });
      }
    },
  ),
  mutant(
    'embeddings',
    'ignores-try-again-message',
    'does not read "Please try again in 2.5s." in a 429 message',
    ['wait-message'],
    class extends AcmeEmbeddingModel {
      protected override parseError(body: unknown) {
        const parsed = super.parseError(body);
        if (/try again in/i.test(parsed.message ?? '')) delete parsed.retryAfterMs;
        return parsed;
      }
    },
  ),
  mutant(
    'embeddings',
    'reads-retry-after-as-milliseconds',
    'takes the seconds of `Retry-After` for milliseconds',
    ['error-429-retry-after-seconds', 'wait-capped'],
    class extends RewaitingModel {
      protected override wait(headers: Record<string, string>) {
        const value = headers['retry-after'];
        return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
      }
    },
  ),
  mutant(
    'embeddings',
    'parses-retry-after-with-number',
    'reads `Retry-After` with Number(), so an HTTP-date becomes no wait at all',
    ['error-429-retry-after-http-date'],
    class extends RewaitingModel {
      protected override wait(headers: Record<string, string>) {
        const value = headers['retry-after'];
        if (value === undefined) return undefined;
        const seconds = Number(value);
        return Number.isFinite(seconds) ? seconds * 1_000 : Number.NaN;
      }
    },
  ),

  // ------------------------------------------------------------------ redaction
  mutant(
    'embeddings',
    'network-error-carries-request',
    'wraps a network failure with the request it was sending (headers and all) as its cause',
    ['redaction-connection-reset'],
    class extends AcmeEmbeddingModel {
      protected override send(request: EmbedRequest) {
        return super.send(request).catch((error: unknown) => {
          if (!ConnectionError.isInstance(error)) throw error;
          const sent = {
            url: `${this.settings.baseURL}/embeddings`,
            headers: { authorization: `Bearer ${this.settings.apiKey}` },
          };
          throw new ConnectionError(error.message, {
            provider: 'acme',
            cause: Object.assign(new Error('request failed'), { request: sent }),
          });
        });
      }
    },
  ),
  mutant(
    'embeddings',
    'timeout-names-request',
    'rebuilds the timeout error with the request headers in its message',
    ['redaction-timeout'],
    class extends AcmeEmbeddingModel {
      protected override send(request: EmbedRequest) {
        return super.send(request).catch((error: unknown) => {
          if (!TimeoutError.isInstance(error)) throw error;
          throw new TimeoutError(`${error.message} (authorization: Bearer ${this.settings.apiKey})`, {
            provider: 'acme',
          });
        });
      }
    },
  ),
  mutant(
    'embeddings',
    'keeps-raw-bodies',
    'keeps the raw text of 5xx and unreadable answers as `responseBody`, unredacted',
    // Rebuilt from the parts it keeps, the error loses the wait a 503 asked for too.
    ['redaction-5xx', 'redaction-invalid-response', 'error-503-retry-after'],
    class extends RecordingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (
            !(
              ServerError.isInstance(error) ||
              (EmbedKitError.isInstance(error) && error.code === 'invalid_response')
            )
          )
            throw error;
          const Class = error.constructor as new (message: string, details: object) => Error;
          throw new Class(error.message, {
            provider: 'acme',
            statusCode: error.statusCode,
            requestId: error.requestId,
            responseBody: this.last.text,
          });
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'html-in-message',
    "puts a proxy's HTML page into the error message as it came",
    ['html-502'],
    class extends RecordingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (!ServerError.isInstance(error) || !(this.last.headers['content-type'] ?? '').includes('html'))
            throw error;
          throw new ServerError(`acme API error ${error.statusCode}: ${this.last.text}`, {
            provider: 'acme',
            statusCode: error.statusCode,
          });
        }
      }
    },
  ),

  // ------------------------------------------------------------------ limits and cassettes
  mutant(
    'embeddings',
    'overclaims-token-budget',
    'declares 60,000 tokens per call where the API takes 50,000',
    ['declared-limits', 'split-at-token-limit'],
    class extends AcmeEmbeddingModel {
      override readonly capabilities = { ...acmeCapabilities, maxTokensPerCall: 60_000 };
    },
  ),
  // The suite plans by what a model created without headers declares (its probe); the engine packs by
  // what the model it is given declares. Every scenario's model has headers, so its calls go past the
  // budget: three inputs in one call where the budget splits them, even where the tiny batches' two
  // inputs a call would give the budget's split of the default pass.
  mutant(
    'embeddings',
    'drops-token-budget-with-headers',
    "declares no token budget on a model created with custom headers (taking them for a gateway's, which it leaves the budget to), so its calls are packed past the budget the API holds",
    ['token-budget-split', 'split-at-token-limit'],
    class extends AcmeEmbeddingModel {
      override readonly capabilities: EmbeddingCapabilities =
        this.settings.headers === undefined ? acmeCapabilities : withoutTokenBudget(acmeCapabilities);
    },
  ),
  mutant(
    'embeddings',
    'unnamed-answer-errors',
    'raises errors about a bad answer (a NaN, an index twice) without its status and request id',
    [
      'wrong-vector-count',
      'answer-extra-vector',
      'wrong-dimension',
      'answer-vector-too-long',
      'answer-duplicate-index',
      'answer-index-out-of-range',
      'answer-nan-literal',
      'answer-partial-bytes',
      'answer-extra-bytes',
      'answer-wrong-length-int8',
      'answer-wrong-length-uint8',
      'answer-wrong-length-binary',
      'answer-wrong-length-ubinary',
    ],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (!InvalidResponseError.isInstance(error)) throw error;
          throw new InvalidResponseError(error.message, { provider: 'acme' });
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'fixed-model',
    'sends the model it was written for (`acme-embed-large`) whatever model the caller chose',
    ['model-named', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        return { ...super.requestBody(request), model: 'acme-embed-large' };
      }
    },
  ),
  mutant(
    'embeddings',
    'overclaims-dimensions',
    'declares lengths up to 64 (another model of the family) where the API takes 8 to 32',
    ['declared-dimensions', 'dimensions-max'],
    class extends AcmeEmbeddingModel {
      override readonly capabilities = { ...acmeCapabilities, dimensions: { min: 8, max: 64 } };
    },
  ),
  mutant(
    'embeddings',
    'overclaims-input-tokens',
    'declares 8,192 tokens per input (another model of the family) where the API takes 2,048',
    ['declared-limits', 'input-over-token-limit', 'text-near-token-limit'],
    class extends AcmeEmbeddingModel {
      override readonly capabilities = { ...acmeCapabilities, maxTokensPerInput: 8_192 };
    },
  ),
  mutant(
    'embeddings',
    'borrowed-field',
    'sends `truncation: false` (another API’s name) beside `truncate`, a field the API does not know',
    ['request-fields', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        return { ...super.requestBody(request), truncation: false };
      }
    },
  ),
  mutant(
    'embeddings',
    'key-in-url',
    'sends the key in the query string too (`?api_key=`), where proxies and access logs keep it',
    ['key-not-in-url', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      constructor(modelId: string, settings: AcmeSettings) {
        super(modelId, settings);
        const transport = this.transport;
        this.transport = {
          kind: transport.kind,
          request: (request) =>
            transport.request({
              ...request,
              url: `${request.url}?api_key=${encodeURIComponent(settings.apiKey)}`,
            }),
        };
      }
    },
  ),
  mutant(
    'embeddings',
    'wrong-model-field',
    'sends the model as `models/<id>` (another API’s convention)',
    ['model-named', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        return { ...super.requestBody(request), model: `models/${this.modelId}` };
      }
    },
  ),

  // ------------------------------------------------------------------ found by review C
  mutant(
    'embeddings',
    'guesses-usage',
    "reports usage as the inputs' character count, a local estimate, instead of the API's count",
    ['single', 'usage-summed', 'usage-missing', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        const answer = await super.doEmbed(request);
        const characters = request.inputs.reduce(
          (sum, input) => sum + (typeof input === 'string' ? input : (input as { text: string }).text).length,
          0,
        );
        return { ...answer, usage: { inputTokens: characters } };
      }
    },
  ),
  mutant(
    'embeddings',
    'dedupes-inputs',
    'sends each distinct input once to save tokens, and never maps the vectors back to the repeats',
    ['duplicate-inputs'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        return { ...body, input: [...new Set(body.input as string[])] };
      }
    },
  ),
  mutant(
    'embeddings',
    'dedupes-inputs-by-position',
    'sends each distinct input once, then hands the vectors back by position, the last one for the rest',
    ['duplicate-inputs'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        const distinct = [...new Set(request.inputs)];
        const answer = await super.doEmbed({ ...request, inputs: distinct });
        const embeddings = request.inputs.map(
          (_, index) => answer.embeddings[Math.min(index, distinct.length - 1)]!,
        );
        return { ...answer, embeddings };
      }
    },
  ),
  mutant(
    'embeddings',
    'model-fixed-to-suite-model',
    "sends the model the author tested with (`acme-embed-1`, the suite's own) whatever model the caller chose",
    ['model-named'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        return { ...super.requestBody(request), model: 'acme-embed-1' };
      }
    },
  ),
  ...[
    ...(
      [
        ['key-base64-in-message', 'the key', (key: string) => key],
        ['basic-user-base64-in-message', 'Basic credentials `key:`', (key: string) => `${key}:`],
        ['basic-password-base64-in-message', 'Basic credentials `:key`', (key: string) => `:${key}`],
        [
          'auth-header-base64-in-message',
          'the authorization value `Bearer key`',
          (key: string) => `Bearer ${key}`,
        ],
      ] as const
    ).map(([name, what, credential]): [string, string, (key: string, baseURL: string) => string] => [
      name,
      `adds the base64 of ${what} to the message of an authentication error, as a debugging hint`,
      (key) => `sent ${Buffer.from(credential(key)).toString('base64')}`,
    ]),
    [
      'key-encoded-twice-in-message',
      "adds a sign-in link to the message of an authentication error, whose return_to holds the call's URL with the key in its query: percent-encoded twice",
      (key: string, baseURL: string) =>
        `sign in: https://login.acme.test/?return_to=${encodeURIComponent(encodeURIComponent(`${baseURL}/embeddings?key=${key}`))}`,
    ] as const,
  ].map(([name, bug, hint]) =>
    mutant(
      'embeddings',
      name,
      bug,
      ['secret-redaction'],
      class extends AcmeEmbeddingModel {
        override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
          try {
            return await super.doEmbed(request);
          } catch (error) {
            if (AuthenticationError.isInstance(error))
              error.message = `${error.message} (${hint(this.settings.apiKey, String(this.settings.baseURL))})`;
            throw error;
          }
        }
      },
    ),
  ),
  mutant(
    'embeddings',
    'gives-up-on-504',
    "takes a 504 (a gateway's timeout) for a broken answer, so it is not retried",
    ['error-5xx-retried'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (ServerError.isInstance(error) && error.statusCode === 504)
            throw new InvalidResponseError(error.message, { provider: 'acme', statusCode: 504 });
          throw error;
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'gives-up-on-json-502',
    "retries a proxy's HTML 502 but takes a 502 with a JSON body for the API's own final refusal",
    ['error-5xx-retried'],
    class extends RecordingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (
            ServerError.isInstance(error) &&
            error.statusCode === 502 &&
            (this.last.headers['content-type'] ?? '').includes('json')
          )
            throw new InvalidResponseError(error.message, { provider: 'acme', statusCode: 502 });
          throw error;
        }
      }
    },
  ),

  mutant(
    'embeddings',
    'rate-limit-error-carries-key',
    'rebuilds its rate-limit errors with the auth header appended "for support", apart from the redacted path of its other errors',
    ['redaction-rate-limit'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (!RateLimitError.isInstance(error)) throw error;
          throw new RateLimitError(`${error.message} (sent with Bearer ${this.settings.apiKey})`, {
            statusCode: 429,
            provider: 'acme',
            quotaExhausted: error.quotaExhausted,
            ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
          });
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'key-in-second-header',
    'sends the key in `x-api-key` as well as in `authorization`, for gateways that read the one or the other',
    ['key-only-in-auth-header'],
    class extends AcmeEmbeddingModel {
      protected override send(request: EmbedRequest) {
        return super.send({ ...request, headers: { 'x-api-key': this.settings.apiKey, ...request.headers } });
      }
    },
  ),
  mutant(
    'embeddings',
    'waits-on-429-only',
    'reads `Retry-After` on 429s only, so a 503 that says when to come back is retried after a blind backoff',
    ['error-503-retry-after'],
    class extends RebuildingServerErrors {
      protected override kept(error: ServerError) {
        return error.requestId === undefined ? {} : { requestId: error.requestId };
      }
    },
  ),
  mutant(
    'embeddings',
    'drops-retried-request-id',
    'rebuilds a server error from its message, status and wait, losing the request id the API sent',
    ['error-5xx-exhausted'],
    class extends RebuildingServerErrors {
      protected override kept(error: ServerError) {
        return error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs };
      }
    },
  ),

  // ------------------------------------------------------------------ the plain-fetch reference
  mutant(
    'embeddings-fetch',
    'crashes-on-base64',
    'maps every vector with `.map`, so a base64 answer to its float request is a TypeError',
    [
      'answer-in-the-other-encoding',
      'answer-nan-base64',
      'answer-infinity-base64',
      'answer-partial-bytes',
      'answer-extra-bytes',
    ],
    class extends AcmeFetchModel {
      protected override decode(vectors: unknown[]) {
        return vectors.map((vector) =>
          typeof vector === 'string'
            ? Float32Array.from((vector as never as number[]).map((value) => value))
            : super.decode([vector])[0]!,
        );
      }
    },
  ),
  mutant(
    'embeddings-fetch',
    'ignores-error-in-200',
    'reports an error inside a 200 as "no data", dropping the server’s message',
    ['error-200-body'],
    class extends AcmeFetchModel {
      protected override failure(status: number, headers: Headers, text: string) {
        return status < 300
          ? super.failure(status, headers, '{"error":{"message":"answered without data"}}')
          : super.failure(status, headers, text);
      }
    },
  ),
  mutant(
    'embeddings-fetch',
    'repairs-nan-literals',
    "repairs Python's NaN literals to 0 before parsing, so a broken vector passes",
    ['answer-nan-literal'],
    class extends AcmeFetchModel {
      protected override parse(text: string) {
        return super.parse(text.replace(/\bNaN\b/g, '0'));
      }
    },
  ),
  mutant(
    'embeddings-fetch',
    'redacts-literal-key-only',
    'redacts the key as it is, not its JSON-escaped forms in a raw body',
    ['redaction-json-escaped'],
    class extends AcmeFetchModel {
      protected override redact(text: string) {
        return text.split(this.settings.apiKey).join('[REDACTED]');
      }
    },
  ),
  mutant(
    'embeddings-fetch',
    'misclassifies-network-errors',
    "takes fetch's TypeError for a broken answer, so resets are not retried",
    ['connection-reset'],
    class extends AcmeFetchModel {
      protected override async post(request: EmbedRequest) {
        return super.post(request).catch((error: unknown) => {
          if (!ConnectionError.isInstance(error)) throw error;
          throw new InvalidResponseError(error.message, { provider: 'acme' });
        });
      }
    },
  ),
  mutant(
    'embeddings-fetch',
    'keeps-request-id',
    'keeps the request id as the server sent it, unredacted',
    ['redaction-request-id'],
    class extends AcmeFetchModel {
      protected override failure(status: number, headers: Headers, text: string) {
        const error = super.failure(status, headers, text);
        const requestId = headers.get('x-request-id');
        if (requestId !== null) Object.defineProperty(error, 'requestId', { value: requestId });
        return error;
      }
    },
  ),

  mutant(
    'embeddings-fetch',
    'spreads-headers',
    "spreads its own, the settings' and the call's headers into one object, so a header of another letter case goes out beside its own",
    ['headers-any-case'],
    class extends AcmeFetchModel {
      protected override headers(request: EmbedRequest) {
        return {
          'content-type': 'application/json',
          authorization: `Bearer ${this.settings.apiKey}`,
          'acme-version': ACME_VERSION,
          ...this.settings.headers,
          ...request.headers,
        };
      }
    },
  ),
  mutant(
    'embeddings',
    'usage-zero-when-missing',
    'reports `{ inputTokens: 0 }` for an answer that carries no usage, a count the API never gave',
    ['usage-missing'],
    class extends AcmeEmbeddingModel {
      protected override usage(body: { usage?: { prompt_tokens?: number } }) {
        return { inputTokens: body.usage?.prompt_tokens ?? 0 };
      }
    },
  ),
  mutant(
    'embeddings',
    'usage-total-tokens',
    "reads `usage.total_tokens` for the input tokens, where OpenAI's wire counts them in `prompt_tokens`",
    ['single', 'usage-summed'],
    class extends AcmeEmbeddingModel {
      protected override usage(body: { usage?: { prompt_tokens?: number; total_tokens?: number } }) {
        const tokens = body.usage?.total_tokens;
        return tokens === undefined ? undefined : { inputTokens: tokens };
      }
    },
  ),
  mutant(
    'embeddings',
    'renormalizes-floats',
    'scales every float vector to unit length on the client, changing the values the API sent',
    ['floats-as-sent', ...CASSETTES],
    class extends AcmeEmbeddingModel {
      protected override decode(vectors: AcmeItem['embedding'][], outputType: OutputType) {
        const decoded = super.decode(vectors, outputType);
        if (outputType === 'float')
          for (const vector of decoded) {
            const length = Math.hypot(...vector);
            for (let index = 0; index < vector.length; index++) vector[index]! /= length;
          }
        return decoded;
      }
    },
  ),
  mutant(
    'embeddings-fetch',
    'signal-until-headers',
    "follows the call's signal only until the headers arrive (its listener removed once `fetch` resolves), so a timeout or an abort while the body streams is not noticed",
    ['timeout-during-body', 'abort-during-body'],
    class extends AcmeFetchModel {
      protected override async post(request: EmbedRequest) {
        const { signal } = request;
        if (signal === undefined) return super.post(request);
        const controller = new AbortController();
        const follow = () => controller.abort(signal.reason);
        signal.addEventListener('abort', follow, { once: true });
        try {
          return await super.post({ ...request, signal: controller.signal });
        } finally {
          signal.removeEventListener('abort', follow);
        }
      }
    },
  ),

  // ------------------------------------------------------------------ contextualized, rerank, batch jobs
  mutant(
    'contextualized',
    'ignores-chunk-index',
    "keeps a document's chunk vectors in arrival order instead of placing each at its index",
    ['ctx-chunks-shuffled'],
    class extends AcmeContextualizedModel {
      protected override chunkOrder(chunks: { index: number; embedding: string | number[] }[]) {
        return chunks.map((chunk) => chunk.embedding);
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-drops-request-id',
    'reports a contextualized answer without the request id the API sent (as a provider that builds its response by hand does)',
    ['ctx-single-document'],
    class extends AcmeContextualizedModel {
      override async doEmbedContextualized(
        request: ContextualizedEmbedRequest,
      ): Promise<ContextualizedEmbedResponse> {
        return withoutRequestId(await super.doEmbedContextualized(request));
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-omits-truncation-false',
    'leaves `truncate: false` out of contextualized calls, so the API may cut a document',
    ['ctx-truncate-off'],
    class extends AcmeContextualizedModel {
      protected override contextualizedBody(request: ContextualizedEmbedRequest) {
        const { truncate: _dropped, ...body } = super.contextualizedBody(request);
        return body;
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-drops-dimensions',
    'sends `dimensions` on embedding calls but not on contextualized ones, so the API answers its default length',
    // Every contextualized scenario that asks a length (the suite's own, 16, or the one it checks) sees
    // the default come back instead.
    [
      'ctx-dimensions-honoured',
      'ctx-single-document',
      'ctx-chunks-as-given',
      'ctx-chunks-shuffled',
      'ctx-documents-in-order',
      'ctx-custom-headers',
      'ctx-usage-summed',
      'ctx-usage-missing',
      'ctx-truncate-off',
      'ctx-input-type-document',
      'ctx-input-type-query',
      'ctx-output-type-int8',
      'ctx-output-type-uint8',
      'ctx-output-type-binary',
      'ctx-output-type-ubinary',
      'ctx-split-by-chunks',
      'ctx-split-at-max-documents',
      'ctx-split-above-max-documents',
      'ctx-token-budget-split',
      'ctx-batch-too-large-bisects',
      'ctx-error-5xx-retried',
      'ctx-error-503-retry-after',
      'ctx-error-429-retry-after-seconds',
      'ctx-error-429-retry-after-http-date',
      'ctx-error-429-retry-after-milliseconds',
      'ctx-wait-capped',
      'ctx-wait-structured-body',
      'ctx-wait-message',
      'ctx-connection-reset',
      'ctx-base-url',
      'ctx-base-url-trailing-slash',
    ],
    class extends AcmeContextualizedModel {
      protected override contextualizedBody(request: ContextualizedEmbedRequest) {
        const { dimensions: _dropped, ...body } = super.contextualizedBody(request);
        return body;
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-forgets-output-type',
    'sends `output_dtype` on embedding calls but not on contextualized ones',
    ['ctx-output-type-int8', 'ctx-output-type-uint8', 'ctx-output-type-binary', 'ctx-output-type-ubinary'],
    class extends AcmeContextualizedModel {
      protected override contextualizedBody(request: ContextualizedEmbedRequest) {
        const { output_dtype: _dropped, ...body } = super.contextualizedBody(request);
        return body;
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-overclaims-documents',
    'declares 9 documents per call where the API takes 8',
    ['ctx-declared-limits', 'ctx-split-at-max-documents', 'ctx-split-above-max-documents'],
    class extends AcmeContextualizedModel {
      override readonly contextualizedCapabilities = {
        ...ACME_CONTEXTUALIZED_LIMITS,
        maxDocumentsPerCall: 9,
      };
    },
  ),
  mutant(
    'contextualized',
    'ctx-overclaims-chunks',
    'declares 40 chunks per call where the API takes 32, so the engine overfills a call with chunks',
    ['ctx-declared-limits'],
    class extends AcmeContextualizedModel {
      override readonly contextualizedCapabilities = {
        ...ACME_CONTEXTUALIZED_LIMITS,
        maxChunksPerCall: 40,
      };
    },
  ),
  mutant(
    'rerank',
    'rerank-overclaims-documents',
    'declares 17 documents per call where the API takes 16',
    ['rerank-declared-limits', 'rerank-split-at-max-documents', 'rerank-split-above-max-documents'],
    class extends AcmeRerankingModel {
      override readonly capabilities = { maxDocumentsPerCall: 17, supportsParallelCalls: true };
    },
  ),
  mutant(
    'rerank-listwise',
    'rerank-listwise-undeclared',
    'a listwise reranker that does not declare `scoresCompareAcrossCalls: false`, so `rerank` splits its jobs and merges them by scores that do not compare',
    ['rerank-listwise-split-refused'],
    class extends AcmeListwiseRerankingModel {
      override readonly capabilities = { maxDocumentsPerCall: 16, supportsParallelCalls: true };
    },
  ),
  mutant(
    'rerank',
    'rerank-drops-request-id',
    'reports a rerank answer without the request id the API sent (as a provider that builds its response by hand does)',
    ['rerank-sorted'],
    class extends AcmeRerankingModel {
      override async doRerank(request: RerankRequest): Promise<RerankResponse> {
        return withoutRequestId(await super.doRerank(request));
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-omits-truncation-false',
    'sends `truncate` only when it is true, leaving the API’s own truncation on',
    ['rerank-truncate-off'],
    class extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        const body = super.body(request);
        if (body.truncate === false) delete body.truncate;
        return body;
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-lenient-options',
    'ignores rerank options it does not know',
    ['rerank-option-unknown-refused'],
    class extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        const { maxDocumentLength } = request.providerOptions?.acme ?? {};
        const acme = maxDocumentLength === undefined ? {} : { maxDocumentLength };
        return super.body({ ...request, providerOptions: { acme } });
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-returns-documents',
    'leaves `return_documents` at the API default, so every answer carries the documents back',
    ['rerank-return-documents-off'],
    class extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        const { return_documents: _dropped, ...body } = super.body(request);
        return body;
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-ignores-truncate',
    'never sends `truncate: true` for rerank, and says nothing',
    ['rerank-truncate-on'],
    class extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        return { ...super.body(request), truncate: false };
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-drops-option',
    'validates `maxDocumentLength` but never sends it',
    ['rerank-option-max-document-length'],
    class extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        const { max_doc_length: _dropped, ...body } = super.body(request);
        return body;
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-usage-zero-when-missing',
    'reports `{ inputTokens: 0 }` for a contextualized answer that carries no usage, a count the API never gave',
    ['ctx-usage-missing'],
    class extends AcmeContextualizedModel {
      override async doEmbedContextualized(request: ContextualizedEmbedRequest) {
        const response = await super.doEmbedContextualized(request);
        return { ...response, usage: response.usage ?? { inputTokens: 0 } };
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-usage-zero-when-missing',
    'reports `{ inputTokens: 0 }` for a rerank answer that carries no usage, a count the API never gave',
    ['rerank-usage-missing'],
    class extends AcmeRerankingModel {
      override async doRerank(request: RerankRequest) {
        const response = await super.doRerank(request);
        return { ...response, usage: response.usage ?? { inputTokens: 0 } };
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-first-item-settings',
    'puts the input type and dimensions on the first request of a batch only',
    ['create-every-item'],
    class extends AcmeBatchJobs {
      private first = true;
      protected override item(...args: Parameters<AcmeBatchJobs['item']>) {
        const item = super.item(...args);
        if (!this.first) {
          delete item.input_type;
          delete item.dimensions;
        }
        this.first = false;
        return item;
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-drops-dimensions',
    'sends `dimensions` on embedding calls but not on batch jobs, so the API answers its default length',
    // Only the create checks read the dimensions a job asked: results come from another call.
    ['create', 'create-every-item'],
    class extends AcmeBatchJobs {
      protected override item(...args: Parameters<AcmeBatchJobs['item']>) {
        const item = super.item(...args);
        delete item.dimensions;
        return item;
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-drops-poll-wait',
    'rethrows a refused poll without the wait the API asked for',
    ['wait-honours-retry-after'],
    class extends AcmeBatchJobs {
      override async get(id: string, options: { signal?: AbortSignal } = {}) {
        return super.get(id, options).catch((error: unknown) => {
          if (RateLimitError.isInstance(error))
            throw new RateLimitError(error.message, { statusCode: 429, provider: 'acme' });
          throw error;
        });
      }
    },
  ),

  // ------------------------------------------------------------------ headers sent twice
  mutant(
    'embeddings',
    'content-type-twice',
    "labels its body `Content-Type: application/json` itself, beside the `content-type` core's request already carries, so the API gets the header twice (`application/json, application/json`)",
    ['single', ...CASSETTES],
    rewritingHeaders((headers) => ({ ...headers, 'Content-Type': 'application/json' })),
  ),
  mutant(
    'embeddings',
    'auth-header-twice',
    "adds its own `Authorization` to every request beside the `authorization` the request already carries (the caller's, when a call gives one), so the API gets two credentials",
    ['single', 'headers-any-case', ...CASSETTES],
    rewritingHeaders((headers, settings) => ({ Authorization: `Bearer ${settings.apiKey}`, ...headers })),
  ),

  // ------------------------------------------------------------------ settings, error signals, unasked fields
  mutant(
    'embeddings',
    'drops-settings-headers',
    "sends each call's headers but not those of the provider's `headers` setting (a gateway's account header)",
    ['custom-headers'],
    class extends AcmeEmbeddingModel {
      constructor(modelId: string, { headers: _dropped, ...settings }: AcmeSettings) {
        super(modelId, settings);
      }
    },
  ),
  mutant(
    'embeddings',
    'misses-quota-exhausted',
    "does not read the API's `insufficient_quota` code, so a used-up quota is retried as a passing rate limit",
    ['error-429-quota-exhausted'],
    class extends AcmeEmbeddingModel {
      protected override parseError(body: unknown) {
        const { quotaExhausted: _dropped, ...parsed } = super.parseError(body);
        return parsed;
      }
    },
  ),
  mutant(
    'embeddings',
    'misses-batch-too-large',
    "does not read the API's `max_tokens_per_request` code, so a call too large fails instead of being split in two",
    ['error-batch-too-large-bisects'],
    class extends AcmeEmbeddingModel {
      protected override parseError(body: unknown) {
        const { batchTooLarge: _dropped, ...parsed } = super.parseError(body);
        return parsed;
      }
    },
  ),
  mutant(
    'embeddings',
    'default-input-type',
    'sends `input_type: passage` when no input type was asked (the API recommends it for indexing), where the recorded API call carries none',
    // The provider sends the same for a type the engine left out as for none asked, which is what
    // `input-type-unsupported` asks of a provider whose API requires a type: only the cassette, which
    // holds what Acme's API is sent, shows the field that should not be there.
    ['cassette/rate limited then answered'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        body.input_type ??= 'passage';
        return body;
      }
    },
  ),
  mutant(
    'embeddings',
    'retries-cut-off-json',
    'takes an answer that is not valid JSON (cut off, or holding a NaN literal) for a dropped connection and raises it as a retryable server error',
    ['malformed-json', 'answer-nan-literal'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (!InvalidResponseError.isInstance(error) || !/not valid JSON/.test(error.message)) throw error;
          throw new ServerError(error.message, { statusCode: 502, provider: 'acme' });
        }
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-wrong-input-type-mapping',
    'sends `query` for documents in contextualized calls (a copy-paste slip in the mapping)',
    ['ctx-input-type-document'],
    class extends AcmeContextualizedModel {
      protected override contextualizedBody(request: ContextualizedEmbedRequest) {
        const body = super.contextualizedBody(request);
        if (request.inputType === 'document') body.input_type = 'query';
        return body;
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-drops-top-n',
    'never sends `top_n`, so the API returns a score for every document of each call',
    ['rerank-top-n', 'rerank-split-at-max-documents', 'rerank-split-above-max-documents'],
    class extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        const { top_n: _dropped, ...body } = super.body(request);
        return body;
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-delete-by-post',
    'deletes a job with `POST /batches/{id}/delete`, as another API names it, instead of `DELETE /batches/{id}`',
    ['delete', 'custom-headers', 'call-timeout', 'call-abort'],
    class extends AcmeBatchJobs {
      override async delete(id: string, options?: BatchJobCallOptions): Promise<void> {
        await this.call('delete', 'POST', `/batches/${id}/delete`, undefined, options);
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-results-by-position',
    'places each result at its position in the answer instead of at its `index`',
    ['results-in-input-order', 'results-partial-errors'],
    class extends AcmeBatchJobs {
      protected override async call(...args: Parameters<AcmeBatchJobs['call']>) {
        const response = await super.call(...args);
        const listed = (response.body as { results?: { index: number }[] } | undefined)?.results ?? [];
        for (const [position, result] of listed.entries()) result.index = position;
        return response;
      }
    },
  ),

  // ------------------------------------------------------------------ headers, in every group
  mutant(
    'contextualized',
    'ctx-drops-settings-headers',
    "sends a contextualized call's own headers but not those of the provider's `headers` setting (a gateway's account header)",
    ['ctx-custom-headers'],
    class extends AcmeContextualizedModel {
      constructor(modelId: string, { headers: _dropped, ...settings }: AcmeSettings) {
        super(modelId, settings);
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-drops-call-headers',
    "sends the provider's `headers` setting on rerank calls but not a call's own `headers`",
    ['rerank-custom-headers'],
    class extends AcmeRerankingModel {
      override doRerank({ headers: _dropped, ...request }: RerankRequest) {
        return super.doRerank(request);
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-drops-headers',
    "sends neither the provider's `headers` setting nor a call's own on job requests, only the key (as the reference once did)",
    ['custom-headers'],
    class extends AcmeBatchJobs {
      constructor(modelId: string, { headers: _dropped, ...settings }: AcmeSettings) {
        super(modelId, settings);
      }

      protected override call(
        ...[operation, method, path, body, { headers: _call, ...options } = {}]: Parameters<
          AcmeBatchJobs['call']
        >
      ) {
        return super.call(operation, method, path, body, options);
      }
    },
  ),

  ...(
    [
      [
        'timeoutMs',
        'batch-drops-timeout',
        "leaves the caller's `timeoutMs` off job requests, so a request the API holds back holds the caller for the default timeout instead",
        'call-timeout',
      ],
      [
        'signal',
        'batch-drops-signal',
        "leaves the caller's `signal` off job requests, so an abort does not end the request in flight",
        'call-abort',
      ],
    ] as const
  ).map(([option, name, bug, caughtBy]) =>
    mutant(
      'batch-jobs',
      name,
      bug,
      [caughtBy],
      class extends AcmeBatchJobs {
        protected override call(
          ...[operation, method, path, body, options = {}]: Parameters<AcmeBatchJobs['call']>
        ) {
          const { [option]: _dropped, ...kept } = options;
          return super.call(operation, method, path, body, kept);
        }
      },
    ),
  ),

  // ------------------------------------------------------------------ contextualized answers and settings
  mutant(
    'contextualized',
    'ctx-ignores-document-index',
    'keeps the documents of a contextualized answer in the order they arrive instead of placing each at its `index`',
    ['ctx-documents-in-order'],
    class extends AcmeContextualizedModel {
      protected override documentOrder<T extends { index: number }>(documents: T[]) {
        return documents;
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-wrong-query-input-type',
    'sends `passage` for queries in contextualized calls (a copy-paste slip in the mapping)',
    ['ctx-input-type-query'],
    class extends AcmeContextualizedModel {
      protected override contextualizedBody(request: ContextualizedEmbedRequest) {
        const body = super.contextualizedBody(request);
        if (request.inputType === 'query') body.input_type = 'passage';
        return body;
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-misses-batch-too-large',
    "does not read the API's `max_tokens_per_request` code on contextualized calls, so a call too large fails instead of being split in two",
    ['ctx-batch-too-large-bisects'],
    class extends AcmeContextualizedModel {
      protected override parseError(body: unknown) {
        const { batchTooLarge: _dropped, ...parsed } = super.parseError(body);
        return parsed;
      }
    },
  ),

  // ------------------------------------------------------------------ rerank answers
  mutant(
    'rerank',
    'rerank-misses-batch-too-large',
    "does not read the API's `max_tokens_per_request` code on rerank calls, so a call too large fails instead of being split in two",
    ['rerank-batch-too-large-bisects'],
    class extends AcmeRerankingModel {
      protected override parseError(body: unknown) {
        const { batchTooLarge: _dropped, ...parsed } = super.parseError(body);
        return parsed;
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-scores-by-position',
    "takes the API's order for the ranking: hands the scores, sorted from best, to the documents in the order the answer lists them",
    ['rerank-unsorted-answer'],
    class extends AcmeRerankingModel {
      override async doRerank(request: RerankRequest) {
        const response = await super.doRerank(request);
        const scores = response.results.map((result) => result.relevanceScore).sort((a, b) => b - a);
        const results = response.results.map((result, position) => ({
          index: result.index,
          relevanceScore: scores[position]!,
        }));
        return { ...response, results };
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-repairs-answer',
    'repairs a broken rerank answer instead of refusing it: drops a score for an index the call did not have and a second score for the same document, and scores a document left out as 0',
    ['rerank-out-of-range-index', 'rerank-duplicate-index', 'rerank-missing-score'],
    class extends AcmeRerankingModel {
      override async doRerank(request: RerankRequest) {
        const response = await super.doRerank(request);
        const count = request.documents.length;
        const seen = new Set<number>();
        const results = response.results.filter((result) => {
          if (!Number.isInteger(result.index) || result.index < 0 || result.index >= count) return false;
          if (seen.has(result.index)) return false;
          seen.add(result.index);
          return true;
        });
        if (request.topN === undefined)
          for (let index = 0; index < count; index++)
            if (!seen.has(index)) results.push({ index, relevanceScore: 0 });
        return { ...response, results };
      }
    },
  ),

  // ------------------------------------------------------------------ batch jobs
  mutant(
    'batch-jobs',
    'batch-flattens-line-breaks',
    'replaces line breaks and tabs with spaces and trims each input before creating a job (advice once given for older embedding models)',
    ['create'],
    class extends AcmeBatchJobs {
      protected override item(...args: Parameters<AcmeBatchJobs['item']>) {
        const item = super.item(...args);
        item.text = item.text.replace(/\s+/g, ' ').trim();
        return item;
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-sends-empty-job',
    'sends a job of no inputs to the API instead of refusing it',
    ['create-empty-inputs'],
    class extends AcmeBatchJobs {
      override async create(options: CreateBatchJobOptions) {
        if (Array.isArray(options.inputs) && options.inputs.length === 0) {
          const response = await this.call(
            'create',
            'POST',
            '/batches',
            { model: this.modelId, requests: [] },
            options,
          );
          return this.job(response.body as never);
        }
        return super.create(options);
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-cancel-wrong-path',
    'cancels a job with `POST /batches/{id}:cancel`, as another API names it, instead of `POST /batches/{id}/cancel`',
    ['cancel', 'custom-headers', 'call-timeout', 'call-abort'],
    class extends AcmeBatchJobs {
      override async cancel(id: string, options?: BatchJobCallOptions): Promise<void> {
        await this.call('cancel', 'POST', `/batches/${id}:cancel`, undefined, options);
      }
    },
  ),
  mutant(
    'batch-jobs',
    'batch-results-of-unfinished-job',
    'returns empty results for a job that has not finished instead of refusing',
    ['results-before-finished'],
    class extends AcmeBatchJobs {
      protected override refuseUnfinished(): void {}
    },
  ),
  mutant(
    'batch-jobs',
    'batch-misspelled-state',
    "spells the API's `cancelled` state `canceled` in its table, so a cancelled job reads as still running and is polled forever",
    ['cancel', 'wait-ends-cancelled'],
    class extends AcmeBatchJobs {
      protected override job(body: Parameters<AcmeBatchJobs['job']>[0]) {
        const job = super.job(body);
        if (body.status === 'cancelled') job.state = 'running';
        return job;
      }
    },
  ),

  // ------------------------------------------------------------------ what the provider declares against what it does
  mutant(
    'embeddings',
    'retries-5xx-itself',
    'retries a server error twice inside doEmbed before the engine sees it, so every retry of the engine’s is three requests',
    // Whatever is answered with 5xx more often than the engine was allowed to retry gets requests unanswered.
    ['error-5xx-exhausted', 'html-502', 'error-503-retry-after', 'redaction-5xx', 'abort-during-backoff'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        for (let attempt = 0; ; attempt++) {
          try {
            return await super.doEmbed(request);
          } catch (error) {
            if (!ServerError.isInstance(error) || attempt === 2) throw error;
          }
        }
      }
    },
  ),
  mutant(
    'embeddings',
    'timeout-as-connection-error',
    'reports a timed-out request as a ConnectionError ("the connection timed out"), which the caller cannot tell from a reset',
    ['timeout', 'timeout-during-body'],
    rethrowing((error) => {
      if (!TimeoutError.isInstance(error)) return error;
      return new ConnectionError('acme: the connection timed out', { provider: 'acme' });
    }),
  ),
  mutant(
    'embeddings',
    'rate-limit-as-server-error',
    'rethrows a 429 as a retryable 503 server error with its wait, so retries and waits hold but a caller catching RateLimitError never sees one',
    ['error-429-rate-limited'],
    rethrowing((error) => {
      if (!RateLimitError.isInstance(error) || error.quotaExhausted) return error;
      return new ServerError(error.message, {
        statusCode: 503,
        provider: 'acme',
        ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      });
    }),
  ),
  mutant(
    'embeddings',
    'rate-limit-not-retryable',
    'marks a rate limit `isRetryable: false` (as an error parser that sets it on every error does), so the engine never retries a 429 and never waits the time the API asked',
    [...WAITS, 'error-429-rate-limited', 'cassette/rate limited then answered'],
    rethrowing((error) => {
      if (!RateLimitError.isInstance(error) || error.quotaExhausted) return error;
      return new RateLimitError(error.message, {
        statusCode: 429,
        provider: 'acme',
        isRetryable: false,
        ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      });
    }),
  ),
  mutant(
    'embeddings',
    'permission-as-authentication',
    'maps a 403 to AuthenticationError like a 401, so a caller is told the key is wrong when it lacks access to the model',
    ['error-403'],
    rethrowing((error) => {
      if (!PermissionDeniedError.isInstance(error)) return error;
      return new AuthenticationError(error.message, {
        statusCode: 403,
        provider: 'acme',
        ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
      });
    }),
  ),
  mutant(
    'embeddings',
    'retries-404-as-loading',
    'takes a 404 for a model still loading and raises it as a retryable server error, so an unknown model is asked again and again',
    ['error-404'],
    rethrowing((error) => {
      if (!NotFoundError.isInstance(error)) return error;
      return new ServerError(`${error.message} (the model may still be loading)`, {
        statusCode: 503,
        provider: 'acme',
      });
    }),
  ),
  mutant(
    'embeddings',
    'declares-unmapped-input-type',
    'declares the `classification` input type (copied from another model) that its table has no word for, so a classification job is sent with none',
    ['input-type-classification'],
    class extends AcmeEmbeddingModel {
      override readonly capabilities: EmbeddingCapabilities = {
        ...acmeCapabilities,
        inputTypes: [...acmeCapabilities.inputTypes!, 'classification'],
      };
    },
  ),
  mutant(
    'embeddings',
    'keeps-vectors-by-text',
    'keeps the vectors it got for each text and answers a later call of the same texts from them, whatever input type, length or output type it asks',
    ['input-type-query', 'input-type-document', 'input-type-unsupported', 'connection-reset'],
    class extends AcmeEmbeddingModel {
      private kept = new Map<string, Embedding>();
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        const texts = request.inputs.map((input) =>
          typeof input === 'string' ? input : JSON.stringify(input),
        );
        if (texts.every((text) => this.kept.has(text)))
          return {
            embeddings: texts.map((text) => this.kept.get(text)!),
            warnings: [],
            response: { status: 200, headers: {} },
          };
        const answer = await super.doEmbed(request);
        for (const [index, text] of texts.entries()) this.kept.set(text, answer.embeddings[index]!);
        return answer;
      }
    },
  ),
  // A call's headers merged into the object of the provider's `headers` setting: every later call sends them.
  ...KEEPING_GROUPS.map(([suite, prefix, what, method, Reference]) =>
    mutant(
      suite,
      `${prefix}keeps-call-headers`,
      `merges each ${what}'s headers into its \`headers\` setting (\`Object.assign(settings.headers, call.headers)\`), so they go with every later call`,
      [`${prefix}custom-headers`],
      keepingCallHeaders(Reference, method),
    ),
  ),
  mutant(
    'batch-jobs',
    'batch-keeps-call-headers',
    "merges each job operation's headers into its `headers` setting, so they go with every later request",
    ['custom-headers'],
    class extends AcmeBatchJobs {
      protected override call(
        ...[operation, method, path, body, options = {}]: Parameters<AcmeBatchJobs['call']>
      ) {
        const headers = Object.assign(this.settings.headers ?? {}, options.headers);
        return super.call(operation, method, path, body, { ...options, headers });
      }
    },
  ),
  mutant(
    'embeddings',
    'lets-api-cut-long-inputs',
    'sends `truncate: true` whenever an input is over 2,000 characters "to be safe", so an input within the limit may be cut silently',
    ['text-near-token-limit'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const body = super.requestBody(request);
        if ((body.input as string[]).some((text) => text.length > 2_000)) body.truncate = true;
        return body;
      }
    },
  ),
  mutant(
    'embeddings-fetch',
    'exact-json-content-type',
    'refuses a success whose content type is not exactly `application/json`, so an API that names its charset (`application/json; charset=utf-8`) is never understood',
    ['single'],
    class extends AcmeFetchModel {
      protected override async post(request: EmbedRequest): Promise<Response> {
        const response = await super.post(request);
        const type = response.headers.get('content-type');
        if (response.ok && type !== 'application/json')
          throw new InvalidResponseError(`acme answered ${type}, not JSON.`, { provider: 'acme' });
        return response;
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-drops-zero-scores',
    'keeps the results whose `relevance_score` is truthy (`.filter((result) => result.relevance_score)`), so a document the API scored 0 is lost',
    ['rerank-zero-score'],
    class extends AcmeRerankingModel {
      override async doRerank(request: RerankRequest) {
        const answer = await super.doRerank(request);
        return { ...answer, results: answer.results.filter((result) => result.relevanceScore) };
      }
    },
  ),
  mutant(
    'rerank',
    'rerank-tidies-text',
    'trims the query and documents and collapses their whitespace (newlines, tabs) to single spaces before sending them',
    ['rerank-text-as-given'],
    class extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        const tidy = (text: string) => text.trim().replace(/\s+/g, ' ');
        const body = super.body(request);
        return { ...body, query: tidy(request.query), documents: request.documents.map(tidy) };
      }
    },
  ),
  mutant(
    'contextualized',
    'ctx-tidies-chunks',
    'trims every chunk and collapses its whitespace (newlines, tabs) to single spaces before sending it',
    ['ctx-chunks-as-given'],
    class extends AcmeContextualizedModel {
      protected override contextualizedBody(request: ContextualizedEmbedRequest) {
        const tidy = (text: string) => text.trim().replace(/\s+/g, ' ');
        const body = super.contextualizedBody(request);
        return { ...body, inputs: request.documents.map((chunks) => chunks.map(tidy)) };
      }
    },
  ),

  // ------------------------------------------------------------------ base URLs, in every group
  ...WRONG_JOINS.flatMap((wrong) =>
    JOINING_GROUPS.map(([suite, namePrefix, idPrefix, path, Reference]) =>
      mutant(
        suite,
        `${namePrefix}${wrong.name}`,
        wrong.bug(path),
        wrong.caughtBy.map((id) => `${idPrefix}${id}`),
        joiningUrls(Reference, wrong.join),
      ),
    ),
  ),
];
