/**
 * A second correct Acme provider, written on plain `fetch` with none of core's HTTP helpers: its own
 * request, error mapping, wait parsing, redaction and decoding; it asks for JSON floats. It proves the
 * suite is fair to a provider that does not use core's transport: it must pass every scenario, and the
 * mutants derived from it must be rejected by the scenarios they name.
 */
import {
  AuthenticationError,
  ConnectionError,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedKitError,
  type EmbedRequest,
  type EmbedResponse,
  type ErrorDetails,
  type FetchFunction,
  InvalidArgumentError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
} from '@embedkit/core/provider';
import { fetch as undiciFetch } from 'undici';
import type { CreateModelOptions } from '../src/types.js';
import { ACME_INPUT_TYPES, ACME_VERSION, acmeCapabilities, apiRoot } from './reference-provider.js';

export const acmeFetchCapabilities: EmbeddingCapabilities = { ...acmeCapabilities, outputTypes: ['float'] };

/** Every form the key may take in a text: raw, percent-encoded, JSON-escaped. */
function keyForms(key: string): string[] {
  return [
    ...new Set([key, encodeURIComponent(key), key.replaceAll('/', '\\/'), key.replaceAll('/', '\\u002f')]),
  ];
}

const MESSAGE_WAIT = /try again in (\d+(?:\.\d+)?)(ms|s)\b/i;

/** A plain-fetch Acme model. Mutants subclass it and override one step. */
export class AcmeFetchModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'acme';
  readonly capabilities: EmbeddingCapabilities = acmeFetchCapabilities;
  protected readonly fetch: FetchFunction;

  constructor(
    readonly modelId: string,
    protected readonly settings: Omit<CreateModelOptions, 'modelId'>,
  ) {
    const { dispatcher } = settings;
    this.fetch =
      settings.fetch ?? ((url, init) => undiciFetch(url, { ...init, dispatcher } as never) as never);
  }

  protected redact(text: string): string {
    let out = text;
    for (const form of keyForms(this.settings.apiKey)) out = out.split(form).join('[REDACTED]');
    return out;
  }

  protected body(request: EmbedRequest): Record<string, unknown> {
    const options = request.providerOptions?.acme ?? {};
    for (const key of Object.keys(options))
      if (key !== 'user')
        throw new InvalidArgumentError(`providerOptions.acme.${key} is not an option.`, {
          argument: 'providerOptions.acme',
        });
    const body: Record<string, unknown> = {
      model: this.modelId,
      input: request.inputs.map((input) =>
        typeof input === 'string' ? input : (input as { text: string }).text,
      ),
      encoding_format: 'float',
      truncate: request.truncate === true,
    };
    const titles = request.inputs.map((input) =>
      typeof input === 'object' && 'title' in input ? (input.title ?? null) : null,
    );
    if (titles.some((title) => title !== null)) body.titles = titles;
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (request.inputType !== undefined) body.input_type = ACME_INPUT_TYPES[request.inputType];
    if (typeof options.user === 'string') body.user = options.user;
    return body;
  }

  /** The wait a refused answer asks for: `retry-after-ms`, `retry-after` (seconds or a date), or the body. */
  protected waitOf(
    headers: Headers,
    error: { message?: unknown; retry_after?: unknown } | undefined,
  ): number | undefined {
    const milliseconds = Number(headers.get('retry-after-ms') ?? Number.NaN);
    if (Number.isFinite(milliseconds)) return milliseconds;
    const after = headers.get('retry-after');
    if (after !== null)
      return /^\d+$/.test(after) ? Number(after) * 1_000 : Math.max(0, Date.parse(after) - Date.now());
    if (typeof error?.retry_after === 'number') return error.retry_after * 1_000;
    const match = typeof error?.message === 'string' ? MESSAGE_WAIT.exec(error.message) : null;
    return match === null ? undefined : Number(match[1]) * (match[2] === 's' ? 1_000 : 1);
  }

  protected failure(status: number, headers: Headers, text: string): EmbedKitError {
    let json: { error?: { message?: unknown; code?: unknown; retry_after?: unknown } } | undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const error = json?.error;
    const said =
      typeof error?.message === 'string'
        ? error.message
        : text
            .replace(/<[^>]+>/g, ' ')
            .replace(/\s+/g, ' ')
            .trim();
    const message = this.redact(`acme answered ${status}: ${said}`);
    const details: ErrorDetails = {
      provider: 'acme',
      statusCode: status,
      responseBody: this.redact(text.slice(0, 1_000)),
    };
    Object.assign(details, this.answerOf(status, headers));
    const wait = this.waitOf(headers, error);
    if (wait !== undefined) details.retryAfterMs = wait;
    if (status >= 200 && status < 300) return new InvalidResponseError(message, details);
    if (status === 401) return new AuthenticationError(message, details);
    if (status === 403) return new PermissionDeniedError(message, details);
    if (status === 404) return new NotFoundError(message, details);
    if (status === 429)
      return new RateLimitError(message, {
        ...details,
        quotaExhausted: error?.code === 'insufficient_quota',
      });
    if (status >= 500) return new ServerError(message, details);
    return new InvalidRequestError(message, {
      ...details,
      batchTooLarge: error?.code === 'max_tokens_per_request',
    });
  }

  /** What names an answer in an error: its status and request id (redacted like everything else). */
  protected answerOf(status: number, headers: Headers): ErrorDetails {
    const requestId = headers.get('x-request-id');
    return { statusCode: status, ...(requestId === null ? {} : { requestId: this.redact(requestId) }) };
  }

  protected decode(vectors: unknown[]): Float32Array[] {
    return vectors.map((vector, index) => {
      if (Array.isArray(vector) && vector.every((value) => typeof value === 'number'))
        return Float32Array.from(vector);
      if (typeof vector === 'string') {
        const bytes = Buffer.from(vector, 'base64');
        if (bytes.length === 0 || bytes.length % 4 !== 0)
          throw new InvalidResponseError(`acme vector ${index} is not whole float32 values.`, {
            provider: 'acme',
          });
        const own = new Float32Array(bytes.length / 4);
        new Uint8Array(own.buffer).set(bytes);
        return own;
      }
      throw new InvalidResponseError(`acme vector ${index} is neither numbers nor base64.`, {
        provider: 'acme',
      });
    });
  }

  protected parse(text: string): unknown {
    return JSON.parse(text);
  }

  protected ordered(data: { index?: unknown; embedding?: unknown }[], count: number): unknown[] {
    const out = new Array<unknown>(count);
    if (data.length !== count)
      throw new InvalidResponseError(`acme sent ${data.length} vectors for ${count} inputs.`, {
        provider: 'acme',
      });
    for (const item of data) {
      const index = item.index as number;
      if (!Number.isInteger(index) || index < 0 || index >= count || out[index] !== undefined)
        throw new InvalidResponseError(`acme sent vector index ${String(index)} twice or out of range.`, {
          provider: 'acme',
        });
      out[index] = item.embedding;
    }
    return out;
  }

  /**
   * The request's headers: its own, then the settings', then the call's, each replacing an earlier one
   * whatever the letter case of either name. Spread into one object, `authorization` and a caller's
   * `Authorization` would stay two keys and go out as one header holding both values, the key included.
   */
  protected headers(request: EmbedRequest): Headers | Record<string, string> {
    const headers = new Headers({
      'content-type': 'application/json',
      authorization: `Bearer ${this.settings.apiKey}`,
      'acme-version': ACME_VERSION,
    });
    for (const set of [this.settings.headers, request.headers])
      for (const [name, value] of Object.entries(set ?? {})) headers.set(name, value);
    return headers;
  }

  protected async post(request: EmbedRequest): Promise<Response> {
    const body = JSON.stringify(this.body(request));
    try {
      return await this.fetch(`${apiRoot(this.settings.baseURL)}/embeddings`, {
        method: 'POST',
        headers: this.headers(request),
        body,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      });
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      const cause = (error as { cause?: { code?: unknown } })?.cause;
      throw new ConnectionError(
        this.redact(`acme: the request failed (${String((error as Error)?.message)}).`),
        {
          provider: 'acme',
          cause: new Error(this.redact(String(cause?.code ?? (error as Error)?.message))),
        },
      );
    }
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const response = await this.post(request);
    let text: string;
    try {
      text = await response.text();
    } catch {
      if (request.signal?.aborted) throw request.signal.reason;
      throw new ConnectionError('acme: the answer was cut off.', { provider: 'acme' });
    }
    if (!response.ok) throw this.failure(response.status, response.headers, text);
    let body: { data?: unknown; error?: unknown; usage?: { prompt_tokens?: number } };
    try {
      body = this.parse(text) as typeof body;
    } catch {
      throw new InvalidResponseError(
        this.redact(`acme answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`),
        { provider: 'acme', ...this.answerOf(response.status, response.headers) },
      );
    }
    if (!Array.isArray(body?.data)) {
      if (body?.error !== undefined) throw this.failure(response.status, response.headers, text);
      throw new InvalidResponseError('acme answered without data.', {
        provider: 'acme',
        ...this.answerOf(response.status, response.headers),
      });
    }
    let embeddings: Float32Array[];
    try {
      embeddings = this.decode(this.ordered(body.data, request.inputs.length));
      for (const [index, vector] of embeddings.entries())
        if (vector.some((value) => !Number.isFinite(value)))
          throw new InvalidResponseError(`acme vector ${index} holds a value that is not finite.`, {
            provider: 'acme',
          });
    } catch (error) {
      // An error about the vectors names the answer they came in.
      if (!InvalidResponseError.isInstance(error)) throw error;
      throw new InvalidResponseError(error.message, {
        provider: 'acme',
        ...this.answerOf(response.status, response.headers),
        cause: error,
      });
    }
    const out: EmbedResponse = {
      embeddings,
      warnings: [],
      response: {
        status: response.status,
        headers: {},
        ...(response.headers.get('x-request-id') === null
          ? {}
          : { requestId: response.headers.get('x-request-id')! }),
      },
    };
    if (typeof body.usage?.prompt_tokens === 'number') out.usage = { inputTokens: body.usage.prompt_tokens };
    return out;
  }
}

export const createAcmeFetchModel = ({ modelId, ...settings }: CreateModelOptions): EmbeddingModel =>
  new AcmeFetchModel(modelId, settings);
