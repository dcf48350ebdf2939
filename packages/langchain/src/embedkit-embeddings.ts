import {
  type EmbeddingModel,
  type EmbedSettings,
  embed,
  embedMany,
  type InputType,
  toNumberArray,
  type Warning,
} from '@embedkit/core';
import { Embeddings } from '@langchain/core/embeddings';

/** Engine settings every call uses: the options of `embedMany`, with the model and the input type of each side. */
export interface EmbedkitEmbeddingsParams
  extends Omit<EmbedSettings<'float'>, 'inputs' | 'inputType' | 'outputType' | 'signal'> {
  model: EmbeddingModel;
  /**
   * The input type of `embedDocuments`. Default `document` when the model has that input type, else
   * none (no warning on every call for models without input types, such as OpenAI's).
   */
  documentInputType?: InputType;
  /** The input type of `embedQuery`. Default `query` when the model has it, else none. */
  queryInputType?: InputType;
}

/**
 * A LangChain `Embeddings` over any embedkit model. Documents and queries are embedded with the model's
 * `document` and `query` input types, through embedkit's engine: batching by count and token budget, the
 * sliding pool, retries, limits. LangChain's own retry and concurrency wrapper (`this.caller`) is not used,
 * so a failing call is retried by embedkit alone, never twice over. `embedDocumentsFloat32` and
 * `embedQueryFloat32` return the `Float32Array`s themselves, at half the memory of `number[]`.
 */
export class EmbedkitEmbeddings extends Embeddings {
  private readonly settings: Omit<EmbedkitEmbeddingsParams, 'documentInputType' | 'queryInputType'>;
  private readonly documentInputType: InputType | undefined;
  private readonly queryInputType: InputType | undefined;

  constructor(params: EmbedkitEmbeddingsParams) {
    // Retries and concurrency are the engine's; LangChain's caller would add a second layer of both.
    super({ maxRetries: 0 });
    const { documentInputType, queryInputType, ...settings } = params;
    const supported = params.model?.capabilities?.inputTypes ?? [];
    this.documentInputType = documentInputType ?? (supported.includes('document') ? 'document' : undefined);
    this.queryInputType = queryInputType ?? (supported.includes('query') ? 'query' : undefined);
    this.settings = { onWarning: warnOnConsole, ...settings };
  }

  /** One vector per document, in order, as LangChain's vector stores take them. */
  async embedDocuments(documents: string[]): Promise<number[][]> {
    return (await this.embedDocumentsFloat32(documents)).map((vector) => toNumberArray(vector));
  }

  async embedQuery(document: string): Promise<number[]> {
    return toNumberArray(await this.embedQueryFloat32(document));
  }

  /** The document vectors as `Float32Array`s (one slab per API call, no copy). */
  async embedDocumentsFloat32(documents: string[]): Promise<Float32Array[]> {
    const job: EmbedSettings<'float'> & { inputs: string[] } = { ...this.settings, inputs: documents };
    if (this.documentInputType !== undefined) job.inputType = this.documentInputType;
    return (await embedMany<'float'>(job)).embeddings;
  }

  /** The query vector as a `Float32Array`. */
  async embedQueryFloat32(document: string): Promise<Float32Array> {
    const job: EmbedSettings<'float'> & { input: string } = { ...this.settings, input: document };
    if (this.queryInputType !== undefined) job.inputType = this.queryInputType;
    return (await embed<'float'>(job)).embedding;
  }
}

/** Warnings are never dropped: without an `onWarning`, each distinct one of a call is printed once. */
function warnOnConsole(warning: Warning): void {
  console.warn(`embedkit: ${warning.message}`);
}
