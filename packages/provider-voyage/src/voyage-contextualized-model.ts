import {
  type ContextualizedCapabilities,
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  type ContextualizedEmbedResponse,
  decodeAnswer,
  decodeVectors,
  type Embedding,
  type EmbeddingCapabilities,
  type EmbedRequest,
  type EmbedResponse,
  InvalidArgumentError,
  InvalidResponseError,
  inputText,
  loneVectorProblem,
  type OutputType,
  type ProviderOptionsFor,
  parseResponse,
  placeByIndex,
  postJson,
  type RateLimiter,
  readProviderOptions,
  responseInfo,
  type schema,
  type Warning,
} from '@embedkit/core/provider';
import { voyageContextualizedResponseSchema } from './voyage-api.js';
import {
  VOYAGE_AUTO_CHUNKING_LIMITS,
  type VoyageContextualizedOptions,
  voyageContextualizedOptionsSchema,
} from './voyage-options.js';
import { commonEmbeddingFields, type VoyageModelConfig } from './voyage-shared.js';

interface ContextualizedAnswer {
  embeddings: Embedding[][];
  chunks: string[][] | undefined;
  response: EmbedResponse['response'];
  usage: EmbedResponse['usage'];
}

/**
 * A Voyage contextualized chunk embedding model (`voyage-context-3`): one request to
 * `POST {baseURL}/contextualizedembeddings` per call. Each chunk is embedded with the other chunks of
 * its document as context. As a plain `EmbeddingModel`, each input is a document of one chunk, which the
 * API embeds independently.
 */
export class VoyageContextualizedEmbeddingModel
  implements
    ContextualizedEmbeddingModel<
      // As a plain embedding model too, it reads the options of contextualized calls.
      ProviderOptionsFor<'voyage', VoyageContextualizedOptions>,
      ProviderOptionsFor<'voyage', VoyageContextualizedOptions>
    >
{
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  /** The limits of a job with `autoChunking`, which the API takes in larger requests. */
  readonly autoChunkingCapabilities: ContextualizedCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly config: VoyageModelConfig;

  /** `autoChunkingCapabilities` default: `VOYAGE_AUTO_CHUNKING_LIMITS`. */
  constructor(
    modelId: string,
    capabilities: EmbeddingCapabilities,
    contextualizedCapabilities: ContextualizedCapabilities,
    config: VoyageModelConfig,
    autoChunkingCapabilities: ContextualizedCapabilities = VOYAGE_AUTO_CHUNKING_LIMITS,
  ) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = capabilities;
    this.contextualizedCapabilities = contextualizedCapabilities;
    this.autoChunkingCapabilities = autoChunkingCapabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
  }

  customBaseURL(): string | undefined {
    return this.config.customBaseURL();
  }

  async doEmbed(
    request: EmbedRequest<ProviderOptionsFor<'voyage', VoyageContextualizedOptions>>,
  ): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    if (request.truncate === true) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'truncate',
        message: `${this.provider} contextualized embeddings cannot truncate; an input over the context length fails instead.`,
      });
    }
    const label = `${this.provider} model ${this.modelId}`;
    const documents = request.inputs.map((input, index) => [inputText(input, index, label)]);
    const answer = await this.send({ ...request, documents }, warnings, false);
    const out: EmbedResponse = {
      embeddings: answer.embeddings.map((vectors) => vectors[0]!),
      warnings,
      response: answer.response,
    };
    if (answer.usage !== undefined) out.usage = answer.usage;
    return out;
  }

  /**
   * Checks a request's documents and Voyage options without sending anything; errors name positions in
   * `request.documents`. With `autoChunking`, every document must be one string and `inputType` must be
   * `document`. `doEmbedContextualized` makes this check on each call; give it every document of a job
   * to refuse the job before any call is sent (and billed), naming the document's place in the job.
   */
  checkContextualizedRequest(
    request: ContextualizedEmbedRequest<ProviderOptionsFor<'voyage', VoyageContextualizedOptions>>,
  ): void {
    this.readOptions(request, true);
  }

  /**
   * The limits of a job with these options: `autoChunkingCapabilities` with `autoChunking` (the Atlas spec
   * allows 120,000 tokens a request with `enable_auto_chunking`, 32,000 otherwise), else
   * `contextualizedCapabilities`. Options that are not Voyage's are refused here, before any call.
   */
  contextualizedCapabilitiesFor(
    providerOptions: ProviderOptionsFor<'voyage', VoyageContextualizedOptions> | undefined,
  ): ContextualizedCapabilities {
    const options = readProviderOptions(voyageContextualizedOptionsSchema, this.provider, providerOptions);
    return options.autoChunking === true ? this.autoChunkingCapabilities : this.contextualizedCapabilities;
  }

  async doEmbedContextualized(
    request: ContextualizedEmbedRequest<ProviderOptionsFor<'voyage', VoyageContextualizedOptions>>,
  ): Promise<ContextualizedEmbedResponse> {
    const warnings: Warning[] = [];
    const answer = await this.send(request, warnings, true);
    const out: ContextualizedEmbedResponse = {
      embeddings: answer.embeddings,
      warnings,
      response: answer.response,
    };
    if (answer.chunks !== undefined) out.chunks = answer.chunks;
    if (answer.usage !== undefined) out.usage = answer.usage;
    return out;
  }

  /**
   * `providerOptions.voyage`, and Voyage's rules for them over `request.documents`. `byDocument` says
   * whether the caller can take several vectors per document (auto-chunking).
   */
  private readOptions(request: ContextualizedEmbedRequest, byDocument: boolean): VoyageContextualizedOptions {
    const options = readProviderOptions(
      voyageContextualizedOptionsSchema,
      this.provider,
      request.providerOptions,
    );
    if (options.autoChunking === true) {
      if (!byDocument) {
        // Auto-chunking answers several vectors per input; a plain embedding call has room for one.
        throw new InvalidArgumentError(
          'autoChunking returns one vector per chunk Voyage makes, several per input; use embedContextualized, whose result has room for them (and their chunk texts).',
          { argument: `providerOptions.${this.provider}.autoChunking` },
        );
      }
      // The API chunks each document itself: `inputs` is then a flat list of whole documents and
      // `input_type` must be `document`.
      if (request.inputType !== 'document') {
        throw new InvalidArgumentError('autoChunking needs inputType "document".', { argument: 'inputType' });
      }
      const documents: readonly unknown[] = Array.isArray(request.documents) ? request.documents : [];
      documents.forEach((document, index) => {
        const chunks = Array.isArray(document) ? document.length : 0;
        if (chunks !== 1) {
          throw new InvalidArgumentError(
            `With autoChunking each document is one string for Voyage to chunk; document ${index} has ${chunks} chunks.`,
            { argument: `documents[${index}]` },
          );
        }
      });
    } else if (options.chunkSize !== undefined || options.chunkOverlap !== undefined) {
      throw new InvalidArgumentError('chunkSize and chunkOverlap apply only with autoChunking: true.', {
        argument: `providerOptions.${this.provider}`,
      });
    }
    if (options.chunkOverlap !== undefined && options.chunkOverlap >= (options.chunkSize ?? 512)) {
      // The server's chunk size is 512 when none is given; the overlap must be smaller.
      throw new InvalidArgumentError(
        `chunkOverlap ${options.chunkOverlap} must be smaller than chunkSize ${options.chunkSize ?? '(server default 512)'}.`,
        { argument: `providerOptions.${this.provider}.chunkOverlap` },
      );
    }
    return options;
  }

  /** One call; `byDocument` says whether the caller can take several vectors per document (auto-chunking). */
  private async send(
    request: ContextualizedEmbedRequest,
    warnings: Warning[],
    byDocument: boolean,
  ): Promise<ContextualizedAnswer> {
    const options = this.readOptions(request, byDocument);
    const label = `${this.provider} model ${this.modelId}`;
    const autoChunking = options.autoChunking === true;
    const fields = commonEmbeddingFields(request, label, warnings);
    const body: Record<string, unknown> = { inputs: request.documents, model: this.modelId, ...fields };
    if (autoChunking) {
      body.inputs = request.documents.map((document) => document[0]!);
      body.enable_auto_chunking = true;
      if (options.chunkSize !== undefined) body.chunk_size = options.chunkSize;
      if (options.chunkOverlap !== undefined) body.chunk_overlap = options.chunkOverlap;
    }
    body.encoding_format = 'base64';

    const response = await postJson(this.config, '/contextualizedembeddings', body, request);
    const parsed = parseResponse(
      voyageContextualizedResponseSchema,
      response,
      this.provider,
      'contextualized embeddings',
    );
    // Everything read from the answer goes through `decodeAnswer`, so that every error about it carries
    // its status and request id.
    const { embeddings, chunks } = decodeAnswer({ provider: this.provider, response }, () =>
      this.readAnswer(parsed.data, request, autoChunking, byDocument),
    );
    const usage = parsed.usage === undefined ? undefined : { inputTokens: parsed.usage };
    return { embeddings, chunks, usage, response: responseInfo(response, parsed.model) };
  }

  /**
   * Places the answer's documents, and each document's chunks, by the answer's indices, and decodes the
   * vectors. The provider checks only what it must to place them, naming a document by its place in
   * this call (it does not know the call's place in the job). A document answered with a wrong number of
   * chunk vectors is handed on as it is, its vectors in index order: `embedContextualized` refuses it,
   * naming the document by its place in the whole job. As a plain embedding model (`byDocument` false),
   * every input must get exactly one vector here: the engine sees only one vector per input.
   */
  private readAnswer(
    answered: VoyageContextualizedDocument[],
    request: ContextualizedEmbedRequest,
    autoChunking: boolean,
    byDocument: boolean,
  ): Pick<ContextualizedAnswer, 'embeddings' | 'chunks'> {
    const provider = this.provider;
    const unit = byDocument ? 'document' : 'input';
    const documents = placeDocuments(answered, request.documents.length, unit, provider);
    const placed = documents.map((document, index) => {
      const items = document.data;
      // With auto-chunking, Voyage decides how many chunks a document has.
      const expected = autoChunking ? items.length : request.documents[index]!.length;
      if (!byDocument && items.length !== expected) {
        throw new InvalidResponseError(
          `${provider} returned ${plural(items.length, 'vector')} for input ${index} of this call; each input is sent as a document of one chunk.`,
          { provider },
        );
      }
      return placeChunks(items, expected, `${unit} ${index} of this call`, provider);
    });
    const outputType = request.outputType ?? 'float';
    const embeddings = placed.map((items, index) =>
      items.map((item) =>
        decodeOne(
          item.embedding,
          outputType,
          byDocument
            ? `chunk ${item.index} of document ${index} of this call`
            : `the vector of input ${index} of this call`,
          provider,
        ),
      ),
    );
    let chunks: string[][] | undefined;
    if (autoChunking) {
      chunks = placed.map((items, index) =>
        items.map((item) => {
          if (item.text === undefined) {
            throw new InvalidResponseError(
              `${provider} chunked document ${index} of this call but returned no text for its chunk ${item.index}.`,
              { provider },
            );
          }
          return item.text;
        }),
      );
    }
    return { embeddings, chunks };
  }
}

type VoyageContextualizedDocument = schema.Infer<typeof voyageContextualizedResponseSchema>['data'][number];
type VoyageChunk = VoyageContextualizedDocument['data'][number];

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** The documents at their indices: each of this call's must be answered once. */
function placeDocuments(
  answered: readonly VoyageContextualizedDocument[],
  expected: number,
  unit: string,
  provider: string,
): VoyageContextualizedDocument[] {
  const of = `the ${plural(expected, unit)} of this call`;
  if (answered.length !== expected) {
    throw new InvalidResponseError(`${provider} returned ${plural(answered.length, 'document')} for ${of}.`, {
      provider,
    });
  }
  return placeByIndex(answered, expected, 'document', of, provider);
}

/**
 * One document's chunks at their indices. When there are as many as `expected`, each index from 0 to
 * `expected - 1` must appear once (else they cannot be placed); when the count differs the answer is
 * wrong whatever the indices say, and the chunks are returned in index order for the engine to refuse.
 */
function placeChunks(
  items: readonly VoyageChunk[],
  expected: number,
  document: string,
  provider: string,
): VoyageChunk[] {
  if (items.length !== expected) return [...items].sort((a, b) => a.index - b.index);
  return placeByIndex(items, expected, 'chunk', `the ${plural(expected, 'chunk')} of ${document}`, provider);
}

/**
 * Decodes one vector on its own: a length that differs from the other vectors' is left to the engine,
 * which names the chunk by its place in the job; what cannot be decoded at all (not base64, a value
 * that is not finite) is named here as `name`.
 */
function decodeOne(
  vector: VoyageChunk['embedding'],
  outputType: OutputType,
  name: string,
  provider: string,
): Embedding {
  try {
    return decodeVectors([vector], outputType)[0]!;
  } catch (error) {
    const problem = loneVectorProblem(error);
    if (problem === undefined) throw error;
    throw new InvalidResponseError(`${provider} returned ${name}, which ${problem}`, {
      provider,
      cause: error,
    });
  }
}
