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
  inOrder,
  inputText,
  parseResponse,
  postJson,
  type RateLimiter,
  readProviderOptions,
  responseInfo,
  type Warning,
} from '@embedkit/core/provider';
import { voyageContextualizedResponseSchema } from './voyage-api.js';
import { type VoyageContextualizedOptions, voyageContextualizedOptionsSchema } from './voyage-options.js';
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
export class VoyageContextualizedEmbeddingModel implements ContextualizedEmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly config: VoyageModelConfig;

  constructor(
    modelId: string,
    capabilities: EmbeddingCapabilities,
    contextualizedCapabilities: ContextualizedCapabilities,
    config: VoyageModelConfig,
  ) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = capabilities;
    this.contextualizedCapabilities = contextualizedCapabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
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
  checkContextualizedRequest(request: ContextualizedEmbedRequest): void {
    this.readOptions(request, true);
  }

  async doEmbedContextualized(request: ContextualizedEmbedRequest): Promise<ContextualizedEmbedResponse> {
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
    const documents = inOrder(parsed.data, request.documents.length, 'documents', this.provider);
    const ordered = documents.map((document, index) => {
      const expected = autoChunking ? document.data.length : request.documents[index]!.length;
      return inOrder(document.data, expected, `chunk vectors of document ${index}`, this.provider);
    });
    if (ordered.some((chunks) => chunks.length === 0)) {
      throw new InvalidResponseError(`${this.provider} returned a document with no chunk vectors.`, {
        provider: this.provider,
      });
    }
    // One decode over every chunk of every document, then split back per document.
    const flat = decodeAnswer({ provider: this.provider, response }, () =>
      decodeVectors(
        ordered.flatMap((chunks) => chunks.map((chunk) => chunk.embedding)),
        request.outputType ?? 'float',
      ),
    );
    let position = 0;
    const embeddings = ordered.map((chunks) => {
      const vectors = flat.slice(position, position + chunks.length);
      position += chunks.length;
      return vectors;
    });
    let chunks: string[][] | undefined;
    if (autoChunking) {
      chunks = ordered.map((items, index) =>
        items.map((item) => {
          if (item.text === undefined) {
            throw new InvalidResponseError(
              `${this.provider} chunked document ${index} but returned no chunk text.`,
              { provider: this.provider },
            );
          }
          return item.text;
        }),
      );
    }
    const usage = parsed.usage === undefined ? undefined : { inputTokens: parsed.usage };
    return { embeddings, chunks, usage, response: responseInfo(response, parsed.model) };
  }
}
