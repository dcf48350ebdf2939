/**
 * Deliberately broken providers, one realistic bug each. `caughtBy` names the scenarios that must
 * fail for the mutant; the suite's test runs them and also checks the reference passes them.
 */
import {
  AuthenticationError,
  decodeBase64Vectors,
  EmbedKitError,
  type EmbedRequest,
  type EmbedResponse,
  InvalidArgumentError,
  RateLimitError,
  ServerError,
} from '@embedkit/core/provider';
import {
  AcmeEmbeddingModel,
  type AcmeSettings,
  acmeCapabilities,
  type ModelFactory,
} from './reference-provider.js';

export interface Mutant {
  name: string;
  bug: string;
  caughtBy: string[];
  createModel: ModelFactory;
}

function mutant(
  name: string,
  bug: string,
  caughtBy: string[],
  Model: new (modelId: string, settings: AcmeSettings) => AcmeEmbeddingModel,
): Mutant {
  return { name, bug, caughtBy, createModel: ({ modelId, ...settings }) => new Model(modelId, settings) };
}

export const mutants: Mutant[] = [
  mutant(
    'ignores-index-order',
    'keeps vectors in the order they arrive instead of placing each at its `index`',
    ['shuffled-indices'],
    class extends AcmeEmbeddingModel {
      protected override order(data: { index: number; embedding: string }[]): string[] {
        return data.map((item) => item.embedding);
      }
    },
  ),
  mutant(
    'drops-dimensions',
    'never sends `dimensions`, so the API answers with its default length',
    ['dimensions-honoured'],
    class extends AcmeEmbeddingModel {
      protected override requestBody(request: EmbedRequest) {
        const { dimensions: _dropped, ...body } = super.requestBody(request);
        return body;
      }
    },
  ),
  mutant(
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
    'ignores-retry-after',
    're-wraps 429s without the server’s wait hint, so the engine backs off blindly',
    ['error-429-retry-after-seconds', 'error-429-retry-after-milliseconds'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (RateLimitError.isInstance(error))
            throw new RateLimitError(error.message, { statusCode: 429, provider: 'acme' });
          throw error;
        }
      }
    },
  ),
  mutant(
    'leaks-key',
    'puts the request headers, Authorization included, into its error messages',
    ['secret-redaction'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (EmbedKitError.isInstance(error) && error.statusCode === 401) {
            throw new AuthenticationError(
              `${error.message} (sent authorization: Bearer ${this.settings.apiKey})`,
              { statusCode: 401 },
            );
          }
          throw error;
        }
      }
    },
  ),
  mutant(
    'returns-number-array',
    'returns plain `number[]` vectors instead of `Float32Array`',
    ['single', 'batch'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        const response = await super.doEmbed(request);
        return {
          ...response,
          embeddings: response.embeddings.map((vector) =>
            Array.from(vector),
          ) as unknown as EmbedResponse['embeddings'],
        };
      }
    },
  ),
  mutant(
    'off-by-one-batch-limit',
    'declares one input more per call than the API accepts',
    ['split-at-max-inputs', 'split-above-max-inputs'],
    class extends AcmeEmbeddingModel {
      override readonly capabilities = {
        ...acmeCapabilities,
        maxInputsPerCall: acmeCapabilities.maxInputsPerCall + 1,
      };
    },
  ),
  mutant(
    'wrong-usage-sum',
    'reports `total_tokens` of the request plus the prompt tokens again (double counting)',
    ['single', 'usage-summed'],
    class extends AcmeEmbeddingModel {
      protected override usage(body: {
        usage?: { prompt_tokens?: number; total_tokens?: number };
      }): EmbedResponse['usage'] {
        return { inputTokens: (body.usage?.prompt_tokens ?? 0) + (body.usage?.total_tokens ?? 0) };
      }
    },
  ),
  mutant(
    'swallows-failed-batch',
    'answers a failed call with zero vectors instead of raising the error',
    ['error-400', 'error-404'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        try {
          return await super.doEmbed(request);
        } catch (error) {
          if (InvalidArgumentError.isInstance(error)) throw error;
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
    'ignores-abort',
    'does not pass the call’s signal to the HTTP request, so aborts and timeouts never land',
    ['abort-during-request', 'timeout'],
    class extends AcmeEmbeddingModel {
      protected override send(request: EmbedRequest) {
        const { signal: _ignored, ...rest } = request;
        return super.send(rest);
      }
    },
  ),
  mutant(
    'misreads-base64',
    'decodes base64 vectors as unsigned bytes instead of float32',
    ['single'],
    class extends AcmeEmbeddingModel {
      override async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
        const response = await super.send(request);
        const body = response.body as { data: { index: number; embedding: string }[] };
        const bytes = decodeBase64Vectors(this.order(body.data), 'uint8');
        return {
          embeddings: bytes.map((vector) => Float32Array.from(vector)),
          warnings: [],
          response: { status: 200, headers: {} },
        };
      }
    },
  ),
];
