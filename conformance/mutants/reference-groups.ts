/**
 * The rest of the fictional Acme API, correct and built on core's helpers, for the contextualized,
 * rerank and batch-jobs groups: `POST /v1/contextualized` (documents of chunks), `POST /v1/rerank` and
 * `/v1/batches`. The mutants of those groups subclass these.
 */
import {
  type BatchEmbeddingJobs,
  type BatchJob,
  type BatchJobCallOptions,
  type BatchJobOperation,
  type BatchJobResults,
  type BatchJobState,
  type ContextualizedCapabilities,
  type ContextualizedEmbeddingModel,
  type ContextualizedEmbedRequest,
  type ContextualizedEmbedResponse,
  type CreateBatchJobOptions,
  checkEmbedRequest,
  createTransport,
  decodeVectors,
  type EmbedInput,
  type InputType,
  InvalidArgumentError,
  inOrder,
  numberArraysToVectors,
  type OutputType,
  type ParsedError,
  parseResponse,
  type RerankingCapabilities,
  type RerankingModel,
  type RerankRequest,
  type RerankResponse,
  readProviderOptions,
  requestJson,
  type SafeParser,
  sendBatchJobRequest,
  type WaitForBatchJobOptions,
  waitForBatchJob,
} from '@embedkit/core/provider';
import type { BatchEmbeddingJobsWireProfile } from '../src/groups/batch-jobs.js';
import type { ContextualizedWireProfile } from '../src/groups/contextualized/index.js';
import type { RerankingWireProfile } from '../src/groups/rerank/index.js';
import { encodeVector } from '../src/suite/answers.js';
import type { CreateModelOptions, VectorEncoding } from '../src/types.js';
import { openAIErrorBody } from '../src/wires/openai-compatible.js';
import {
  ACME_INPUT_TYPES,
  AcmeEmbeddingModel,
  type AcmeSettings,
  acmeWire,
  apiRoot,
  parseAcmeError,
  shape,
} from './reference-provider.js';

const bearer = (apiKey: string) => ({ name: 'authorization', value: `Bearer ${apiKey}` });
const common = {
  errorBody: openAIErrorBody,
  reportsUsage: true,
  authHeader: bearer,
  waits: acmeWire.waits!,
  signals: acmeWire.signals!,
  requestIdHeader: acmeWire.requestIdHeader!,
};
const inputTypeOf = (word: unknown): InputType | undefined =>
  Object.entries(ACME_INPUT_TYPES).find(([, value]) => value === word)?.[0] as InputType | undefined;

// ---------------------------------------------------------------- contextualized

interface ContextualizedBody {
  inputs?: string[][];
  input_type?: string;
  dimensions?: number;
  output_dtype?: OutputType;
  encoding_format?: string;
  truncate?: boolean;
}

export const ACME_CONTEXTUALIZED_LIMITS: ContextualizedCapabilities = {
  maxDocumentsPerCall: 8,
  maxChunksPerCall: 32,
  maxTokensPerCall: 50_000,
};

export const acmeContextualizedWire: ContextualizedWireProfile = {
  ...common,
  endpoint: () => ({ method: 'POST', path: '/v1/contextualized' }),
  documentsOf: (body) => (body as ContextualizedBody).inputs ?? [],
  dimensionsOf: (body) => (body as ContextualizedBody).dimensions,
  inputTypeOf: (body) => inputTypeOf((body as ContextualizedBody).input_type),
  outputTypeOf: (body) => (body as ContextualizedBody).output_dtype ?? 'float',
  encodingOf: (body): VectorEncoding =>
    (body as ContextualizedBody).encoding_format === 'base64' ? 'base64' : 'float',
  // Acme cuts a document that does not fit unless told `truncate: false`.
  truncateOf: (body) => (body as ContextualizedBody).truncate !== false,
  successBody: ({ body, vectors, order, chunkOrder, usageTokens }) => {
    const request = body as ContextualizedBody;
    const outputType = request.output_dtype ?? 'float';
    const encoding = request.encoding_format === 'base64' ? 'base64' : 'float';
    return {
      data: order.map((index) => ({
        index,
        data: (chunkOrder?.[index] ?? vectors[index]!.map((_, chunk) => chunk)).map((chunk) => ({
          index: chunk,
          embedding: encodeVector(vectors[index]![chunk]!, outputType, encoding),
        })),
      })),
      // No usage at all when the answer carries none: a made-up 0 would make a provider's 0 right.
      ...(usageTokens === undefined ? {} : { usage: { prompt_tokens: usageTokens } }),
    };
  },
  maxDocumentsPerRequest: 8,
  maxChunksPerRequest: 32,
};

/** The Acme model with contextualized chunk embeddings. */
export class AcmeContextualizedModel extends AcmeEmbeddingModel implements ContextualizedEmbeddingModel {
  readonly contextualizedCapabilities = ACME_CONTEXTUALIZED_LIMITS;

  protected contextualizedBody(request: ContextualizedEmbedRequest): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.modelId,
      inputs: request.documents,
      encoding_format: 'base64',
      truncate: false,
    };
    if (request.inputType !== undefined) body.input_type = ACME_INPUT_TYPES[request.inputType];
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (request.outputType !== undefined && request.outputType !== 'float')
      body.output_dtype = request.outputType;
    return body;
  }

  /** Each document's entry at its `index`, every position filled once. */
  protected documentOrder<T extends { index: number }>(documents: T[], count: number): T[] {
    return inOrder(documents, count, 'documents', this.provider);
  }

  protected chunkOrder(
    chunks: { index: number; embedding: string | number[] }[],
    count: number,
    document: number,
  ) {
    return inOrder(chunks, count, `chunk vectors of document ${document}`, this.provider).map(
      (chunk) => chunk.embedding,
    );
  }

  async doEmbedContextualized(request: ContextualizedEmbedRequest): Promise<ContextualizedEmbedResponse> {
    const response = await requestJson({
      transport: this.transport,
      provider: this.provider,
      url: this.url('/contextualized'),
      headers: {
        authorization: `Bearer ${this.settings.apiKey}`,
        ...this.settings.headers,
        ...request.headers,
      },
      body: this.contextualizedBody(request),
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      secrets: [this.settings.apiKey],
      parseError: (error) => this.parseError(error),
    });
    const body = parseResponse(
      shape<{
        data: { index: number; data: { index: number; embedding: string | number[] }[] }[];
        usage?: { prompt_tokens: number };
      }>((value) => Array.isArray((value as { data?: unknown })?.data), 'data'),
      response,
      this.provider,
      'contextualized embeddings',
    );
    const documents = this.documentOrder(body.data ?? [], request.documents.length);
    const embeddings = documents.map((document, index) =>
      decodeVectors(
        this.chunkOrder(document.data, request.documents[index]!.length, index),
        request.outputType ?? 'float',
      ),
    );
    const out: ContextualizedEmbedResponse = {
      embeddings,
      warnings: [],
      response: {
        status: response.status,
        headers: {},
        ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
      },
    };
    if (body.usage !== undefined) out.usage = { inputTokens: body.usage.prompt_tokens };
    return out;
  }
}

export const createAcmeContextualizedModel = ({ modelId, ...settings }: CreateModelOptions) =>
  new AcmeContextualizedModel(modelId, settings);

// ---------------------------------------------------------------- rerank

interface RerankBody {
  query?: string;
  documents?: string[];
  top_n?: number;
  truncate?: boolean;
  return_documents?: boolean;
  max_doc_length?: number;
}

export const acmeRerankingWire: RerankingWireProfile = {
  ...common,
  endpoint: () => ({ method: 'POST', path: '/v1/rerank' }),
  queryOf: (body) => (body as RerankBody).query ?? '',
  documentsOf: (body) => (body as RerankBody).documents ?? [],
  topNOf: (body) => (body as RerankBody).top_n,
  successBody: ({ results, usageTokens }) => ({
    results: results.map((result) => ({ index: result.index, relevance_score: result.relevanceScore })),
    ...(usageTokens === undefined ? {} : { usage: { total_tokens: usageTokens } }),
  }),
  // Acme cuts long documents and sends every document back unless told otherwise.
  truncateOf: (body) => (body as RerankBody).truncate !== false,
  returnsDocumentsOf: (body) => (body as RerankBody).return_documents !== false,
  options: [
    {
      name: 'max-document-length',
      options: { maxDocumentLength: 512 },
      onWire: (body) => (body as RerankBody).max_doc_length,
      expected: 512,
    },
  ],
  maxDocumentsPerRequest: 16,
};

const rerankOptionsSchema: SafeParser<{ maxDocumentLength?: number }> = {
  safeParse(value) {
    const record = (value ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(record).find((key) => key !== 'maxDocumentLength');
    if (unknown !== undefined)
      return { success: false, error: { issues: [{ path: [unknown], message: 'unknown option' }] } };
    return { success: true, data: record as { maxDocumentLength?: number } };
  },
};

/** The Acme reranker. */
export class AcmeRerankingModel implements RerankingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'acme';
  readonly capabilities: RerankingCapabilities = { maxDocumentsPerCall: 16, supportsParallelCalls: true };
  protected readonly transport;

  constructor(
    readonly modelId: string,
    protected readonly settings: AcmeSettings,
  ) {
    this.transport = createTransport(settings);
  }

  /** The URL of `path` under the base URL given. */
  protected url(path: string): string {
    return `${apiRoot(this.settings.baseURL)}${path}`;
  }

  protected parseError(body: unknown): ParsedError {
    return parseAcmeError(body);
  }

  protected body(request: RerankRequest): Record<string, unknown> {
    const options = readProviderOptions(rerankOptionsSchema, this.provider, request.providerOptions);
    const body: Record<string, unknown> = {
      model: this.modelId,
      query: request.query,
      documents: request.documents,
      // The engine has the documents; the API sends them back unless told not to.
      return_documents: false,
      truncate: request.truncate === true,
    };
    if (request.topN !== undefined) body.top_n = request.topN;
    if (options.maxDocumentLength !== undefined) body.max_doc_length = options.maxDocumentLength;
    return body;
  }

  async doRerank(request: RerankRequest): Promise<RerankResponse> {
    const response = await requestJson({
      transport: this.transport,
      provider: this.provider,
      url: this.url('/rerank'),
      headers: {
        authorization: `Bearer ${this.settings.apiKey}`,
        ...this.settings.headers,
        ...request.headers,
      },
      body: this.body(request),
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      secrets: [this.settings.apiKey],
      parseError: (error) => this.parseError(error),
    });
    const body = parseResponse(
      shape<{ results: { index: number; relevance_score: number }[]; usage?: { total_tokens: number } }>(
        (value) => Array.isArray((value as { results?: unknown })?.results),
        'results',
      ),
      response,
      this.provider,
      'rerank',
    );
    const out: RerankResponse = {
      results: body.results.map((result) => ({
        index: result.index,
        relevanceScore: result.relevance_score,
      })),
      warnings: [],
      response: {
        status: response.status,
        headers: {},
        ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
      },
    };
    if (body.usage !== undefined) out.usage = { inputTokens: body.usage.total_tokens };
    return out;
  }
}

export const createAcmeRerankingModel = ({ modelId, ...settings }: CreateModelOptions) =>
  new AcmeRerankingModel(modelId, settings);

/** Acme's listwise reranker: the same endpoint, its scores ranking one request's documents against each other. */
export const acmeListwiseRerankingWire: RerankingWireProfile = { ...acmeRerankingWire, listwise: true };

/** The Acme listwise reranker, which declares that its scores do not compare across calls. */
export class AcmeListwiseRerankingModel extends AcmeRerankingModel {
  override readonly capabilities: RerankingCapabilities = {
    maxDocumentsPerCall: 16,
    supportsParallelCalls: true,
    scoresCompareAcrossCalls: false,
  };
}

export const createAcmeListwiseRerankingModel = ({ modelId, ...settings }: CreateModelOptions) =>
  new AcmeListwiseRerankingModel(modelId, settings);

// ---------------------------------------------------------------- batch jobs

const STATES: Record<string, BatchJobState> = {
  queued: 'pending',
  running: 'running',
  completed: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
};
const WORDS = Object.fromEntries(Object.entries(STATES).map(([word, state]) => [state, word])) as Record<
  BatchJobState,
  string
>;

interface BatchRequestItem {
  text: string;
  title?: string;
  input_type?: string;
  dimensions?: number;
}
interface AcmeJob {
  id: string;
  status: string;
  counts: { total: number; completed: number; failed: number };
  results?: { index: number; embedding?: number[]; error?: { message: string; code?: string } }[];
}

export const ACME_BATCH_ID = 'batch-conformance-1';

export const acmeBatchWire: BatchEmbeddingJobsWireProfile = {
  jobId: ACME_BATCH_ID,
  create: () => ({ method: 'POST', path: '/v1/batches' }),
  get: (id) => ({ method: 'GET', path: `/v1/batches/${id}` }),
  cancel: (id) => ({ method: 'POST', path: `/v1/batches/${id}/cancel` }),
  delete: (id) => ({ method: 'DELETE', path: `/v1/batches/${id}` }),
  inputsOf: (body) => ((body as { requests: BatchRequestItem[] }).requests ?? []).map((item) => item.text),
  dimensionsOf: (body) => (body as { requests: BatchRequestItem[] }).requests[0]?.dimensions,
  itemsOf: (body) =>
    (body as { requests: BatchRequestItem[] }).requests.map((item) => ({
      text: item.text,
      title: item.title,
      inputType: inputTypeOf(item.input_type),
      dimensions: item.dimensions,
    })),
  titles: { inputType: 'document' },
  waits: acmeWire.waits!,
  jobBody: (job) => ({
    id: job.id,
    status: WORDS[job.state],
    counts: { total: job.counts.total, completed: job.counts.succeeded, failed: job.counts.failed },
    ...(job.outcomes === undefined
      ? {}
      : {
          results: job.outcomes.map((outcome) =>
            'vector' in outcome
              ? { index: outcome.index, embedding: outcome.vector }
              : { index: outcome.index, error: { message: outcome.error.message } },
          ),
        }),
  }),
  errorBody: ({ status, message }) => openAIErrorBody({ status, message }),
  authHeader: bearer,
};

/** Acme batch jobs: each request item carries its own settings, as Gemini's do. */
export class AcmeBatchJobs implements BatchEmbeddingJobs {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'acme';
  protected readonly transport;
  protected readonly model: AcmeEmbeddingModel;

  constructor(
    readonly modelId: string,
    protected readonly settings: AcmeSettings,
  ) {
    this.transport = createTransport(settings);
    this.model = new AcmeEmbeddingModel(modelId, settings);
  }

  /** The URL of `path` under the base URL given. */
  protected url(path: string): string {
    return `${apiRoot(this.settings.baseURL)}${path}`;
  }

  /**
   * One request of `operation`: the provider's `headers` setting and then the call's own go with it.
   * Core's `sendBatchJobRequest` ends each attempt at the caller's `timeoutMs` or `signal`, and retries
   * the operations that are safe to repeat.
   */
  protected call(
    operation: BatchJobOperation,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    options: BatchJobCallOptions = {},
  ) {
    return sendBatchJobRequest(this, operation, options, (signal, timeoutMs) =>
      requestJson({
        transport: this.transport,
        provider: this.provider,
        url: this.url(path),
        method,
        headers: {
          authorization: `Bearer ${this.settings.apiKey}`,
          ...this.settings.headers,
          ...options.headers,
        },
        ...(body === undefined ? {} : { body }),
        signal,
        timeoutMs,
        secrets: [this.settings.apiKey],
        parseError: parseAcmeError,
      }),
    );
  }

  protected item(input: EmbedInput, options: CreateBatchJobOptions): BatchRequestItem {
    const item: BatchRequestItem = {
      text: typeof input === 'string' ? input : (input as { text: string }).text,
    };
    if (typeof input === 'object' && 'title' in input && input.title !== undefined) item.title = input.title;
    if (options.inputType !== undefined) item.input_type = ACME_INPUT_TYPES[options.inputType]!;
    if (options.dimensions !== undefined) item.dimensions = options.dimensions;
    return item;
  }

  protected job(body: AcmeJob): BatchJob {
    const { total, completed, failed } = body.counts;
    return {
      id: body.id,
      provider: this.provider,
      modelId: this.modelId,
      state: STATES[body.status] ?? 'running',
      providerState: body.status,
      requestCounts: { total, succeeded: completed, failed, pending: total - completed - failed },
    };
  }

  /** A job still pending or running has no results yet: asking for them is the caller's mistake. */
  protected refuseUnfinished(job: BatchJob): void {
    if (job.state === 'pending' || job.state === 'running')
      throw new InvalidArgumentError(`Batch job ${job.id} has not finished (${job.state}).`, {
        argument: 'id',
      });
  }

  async create(options: CreateBatchJobOptions): Promise<BatchJob> {
    if (!Array.isArray(options.inputs) || options.inputs.length === 0)
      throw new InvalidArgumentError('create() needs a non-empty inputs array.', { argument: 'inputs' });
    checkEmbedRequest(this.model, {
      inputs: options.inputs.slice(0, 1),
      ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
    });
    const requests = options.inputs.map((input) => this.item(input, options));
    const response = await this.call(
      'create',
      'POST',
      '/batches',
      { model: this.modelId, requests },
      options,
    );
    return this.job(response.body as AcmeJob);
  }

  async get(id: string, options: BatchJobCallOptions = {}): Promise<BatchJob> {
    const response = await this.call('get', 'GET', `/batches/${id}`, undefined, options);
    return this.job(response.body as AcmeJob);
  }

  wait(id: string, options?: WaitForBatchJobOptions): Promise<BatchJob> {
    // One attempt per poll: the loop itself tolerates failed polls and sets the pace.
    return waitForBatchJob(
      (jobId, callOptions) => this.get(jobId, { ...callOptions, maxRetries: 0 }),
      id,
      options,
    );
  }

  async results(id: string, options: BatchJobCallOptions = {}): Promise<BatchJobResults> {
    const response = await this.call('results', 'GET', `/batches/${id}`, undefined, options);
    const body = response.body as AcmeJob;
    const job = this.job(body);
    this.refuseUnfinished(job);
    const embeddings = new Array<Float32Array | null>(job.requestCounts.total).fill(null);
    const errors: BatchJobResults['errors'] = [];
    for (const result of body.results ?? []) {
      if (result.embedding !== undefined)
        embeddings[result.index] = numberArraysToVectors([result.embedding])[0] as Float32Array;
      else errors.push({ index: result.index, message: result.error?.message ?? 'failed' });
    }
    errors.sort((a, b) => a.index - b.index);
    return { job, embeddings, errors, warnings: [] };
  }

  async cancel(id: string, options: BatchJobCallOptions = {}): Promise<void> {
    await this.call('cancel', 'POST', `/batches/${id}/cancel`, undefined, options);
  }

  async delete(id: string, options: BatchJobCallOptions = {}): Promise<void> {
    await this.call('delete', 'DELETE', `/batches/${id}`, undefined, options);
  }
}

export const createAcmeBatchJobs = ({ modelId, ...settings }: CreateModelOptions): BatchEmbeddingJobs =>
  new AcmeBatchJobs(modelId, settings);
