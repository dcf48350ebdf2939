import {
  type ContextualizedCapabilities,
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  type ContextualizedEmbedResponse,
  InvalidArgumentError,
  type ProviderOptionsFor,
  type Warning,
} from '@embedkit/core/provider';
import { JinaEmbeddingModel } from './jina-embedding-model.js';
import type { JinaEmbeddingOptions, JinaModelProfile } from './jina-options.js';
import { embeddingFields, type JinaModelConfig, sendEmbeddings } from './jina-shared.js';

/**
 * Jina's answers to an input over the model's context: "Input text exceeds the model's maximum of 8194
 * tokens" (observed 2026-04), "Single text cannot exceed 8194 tokens" (older), "longer than the 8194 tokens".
 */
const TOO_MANY_TOKENS = /\b(?:exceeds?|longer than)\b[^.]*\btokens\b/i;

/** What can fix a late-chunking call over the context: `truncate` is not sent true there. */
const LATE_CHUNKING_LENGTH_HINT =
  "Late chunking embeds all of a document's chunks as one sequence, which must fit the model's context, and truncate does not apply to it: split the document into smaller documents, each with fewer or shorter chunks.";

/**
 * Jina late chunking (`jina-embeddings-v3`, `jina-embeddings-v4`): `embedContextualized` sends one
 * document per call, its chunks as `input` with `late_chunking: true`; the API embeds the joined chunks as
 * one sequence and returns one vector per chunk, each carrying the whole document's context. As a plain
 * `EmbeddingModel` it embeds each input on its own, like `jina.embedding(id)`.
 */
export class JinaContextualizedEmbeddingModel
  extends JinaEmbeddingModel
  implements
    ContextualizedEmbeddingModel<
      ProviderOptionsFor<'jina', JinaEmbeddingOptions>,
      ProviderOptionsFor<'jina', JinaEmbeddingOptions>
    >
{
  readonly contextualizedCapabilities: ContextualizedCapabilities;
  /** The API as late chunking calls it: an error naming an input names a chunk of the call's one document. */
  private readonly lateChunkingConfig: JinaModelConfig;

  constructor(
    modelId: string,
    profile: JinaModelProfile,
    contextualizedCapabilities: ContextualizedCapabilities,
    config: JinaModelConfig,
  ) {
    super(modelId, profile, config);
    this.contextualizedCapabilities = contextualizedCapabilities;
    const parseError = config.parseError;
    this.lateChunkingConfig = {
      ...config,
      // `input.3` is chunk 3 of the document, not a document: the engine places `inputIndex` among the
      // job's documents, so it is the document's place in the call (0) and the chunk is named in the message.
      parseError(body, status) {
        const parsed = parseError?.(body, status) ?? {};
        if (parsed.inputIndex !== undefined) {
          parsed.message = `${parsed.message ?? 'The API refused a chunk'} (chunk ${parsed.inputIndex} of the document)`;
          parsed.inputIndex = 0;
        }
        // The API's own advice for an over-long input is "Use 'truncate: true'", which late chunking
        // cannot follow: the joined chunks are one sequence, and cutting it would drop whole chunks.
        if (parsed.message !== undefined && TOO_MANY_TOKENS.test(parsed.message))
          parsed.hint = LATE_CHUNKING_LENGTH_HINT;
        return parsed;
      },
    };
  }

  async doEmbedContextualized(
    request: ContextualizedEmbedRequest<ProviderOptionsFor<'jina', JinaEmbeddingOptions>>,
  ): Promise<ContextualizedEmbedResponse> {
    const warnings: Warning[] = [];
    const label = `${this.provider} model ${this.modelId}`;
    if (request.documents.length !== 1) {
      throw new InvalidArgumentError(
        `${label} late-chunks one document per call; got ${request.documents.length}. Use embedContextualized, which sends each document on its own.`,
        { argument: 'documents' },
      );
    }
    const chunks = request.documents[0]!;
    const body: Record<string, unknown> = {
      model: this.modelId,
      input: chunks,
      ...embeddingFields(request, this.profile, this.provider, label, warnings),
      // The joined chunks must fit the context: never cut silently.
      truncate: false,
      late_chunking: true,
    };
    const answer = await sendEmbeddings(
      this.lateChunkingConfig,
      body,
      chunks.length,
      request.outputType ?? 'float',
      request,
    );
    const out: ContextualizedEmbedResponse = {
      embeddings: [answer.embeddings],
      warnings,
      response: answer.response,
    };
    if (answer.usage !== undefined) out.usage = answer.usage;
    return out;
  }
}
