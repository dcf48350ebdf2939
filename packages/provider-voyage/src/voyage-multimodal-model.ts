import {
  bytesToBase64,
  type ContentPart,
  decodeAnswer,
  decodeVectors,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedInput,
  type EmbedRequest,
  type EmbedResponse,
  InvalidArgumentError,
  inOrder,
  parseDataUrl,
  parseResponse,
  postJson,
  type RateLimiter,
  readProviderOptions,
  responseInfo,
  type Warning,
} from '@embedkit/core/provider';
import { voyageEmbeddingResponseSchema } from './voyage-api.js';
import { voyageEmbeddingOptionsSchema } from './voyage-options.js';
import { commonEmbeddingFields, type VoyageModelConfig } from './voyage-shared.js';

/** The image formats the API documents for `image_base64` and `image_url`. */
const MEDIA_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

type WirePart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: string }
  | { type: 'image_base64'; image_base64: string };

function checkMediaType(mediaType: string | undefined, where: string): string {
  if (mediaType === undefined) {
    throw new InvalidArgumentError(
      `${where} holds image bytes without a mediaType; give image/png, image/jpeg, image/webp or image/gif.`,
      {
        argument: where,
      },
    );
  }
  const normalized = mediaType.toLowerCase();
  if (!MEDIA_TYPES.has(normalized)) {
    throw new InvalidArgumentError(
      `${where} is ${mediaType}; Voyage takes image/png, image/jpeg, image/webp and image/gif.`,
      {
        argument: where,
      },
    );
  }
  return normalized;
}

/** An image as the API takes it: a URL it fetches (`image_url`) or a base64 data URL (`image_base64`). */
function imagePart(image: string | Uint8Array, mediaType: string | undefined, where: string): WirePart {
  if (image instanceof Uint8Array) {
    if (image.length === 0)
      throw new InvalidArgumentError(`${where} is an empty image.`, { argument: where });
    return {
      type: 'image_base64',
      image_base64: `data:${checkMediaType(mediaType, where)};base64,${bytesToBase64(image)}`,
    };
  }
  if (typeof image !== 'string')
    throw new InvalidArgumentError(`${where} must be a URL or bytes.`, { argument: where });
  const dataUrl = parseDataUrl(image);
  if (dataUrl !== undefined) {
    checkMediaType(dataUrl.mediaType, where);
    return { type: 'image_base64', image_base64: image };
  }
  if (/^https?:\/\/./i.test(image)) return { type: 'image_url', image_url: image };
  throw new InvalidArgumentError(
    `${where} must be an http(s) URL, a base64 data URL or bytes with a mediaType.`,
    {
      argument: where,
    },
  );
}

function contentPart(part: ContentPart, where: string): WirePart {
  if (part.type === 'text') {
    if (typeof part.text !== 'string' || part.text.length === 0) {
      throw new InvalidArgumentError(`${where} is an empty text part.`, { argument: where });
    }
    return { type: 'text', text: part.text };
  }
  if (part.type === 'image')
    return 'data' in part
      ? imagePart(part.data, part.mediaType, where)
      : imagePart(part.url, undefined, where);
  throw new InvalidArgumentError(`${where} has an unknown part type.`, { argument: where });
}

function wireContent(input: EmbedInput, index: number): WirePart[] {
  const where = `inputs[${index}]`;
  if (typeof input === 'string') return [{ type: 'text', text: input }];
  if ('text' in input) return [{ type: 'text', text: input.text }];
  if ('image' in input) return [imagePart(input.image, input.mediaType, where)];
  if (!Array.isArray(input.content) || input.content.length === 0) {
    throw new InvalidArgumentError(`${where} has no content parts.`, { argument: where });
  }
  return input.content.map((part, position) => contentPart(part, `${where}.content[${position}]`));
}

/**
 * A Voyage multimodal embedding model (`voyage-multimodal-3`, `voyage-multimodal-3.5`): one request to
 * `POST {baseURL}/multimodalembeddings` per call. Text, images and interleaved content; images go as
 * URLs the API fetches or as base64 data URLs.
 */
export class VoyageMultimodalEmbeddingModel implements EmbeddingModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  readonly rateLimiter: RateLimiter | undefined;
  private readonly config: VoyageModelConfig;

  constructor(modelId: string, capabilities: EmbeddingCapabilities, config: VoyageModelConfig) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = capabilities;
    this.rateLimiter = config.rateLimiter;
    this.config = config;
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    readProviderOptions(voyageEmbeddingOptionsSchema, this.provider, request.providerOptions);
    const label = `${this.provider} model ${this.modelId}`;
    const inputs = request.inputs.map((input, index) => ({ content: wireContent(input, index) }));
    const kinds = new Set(inputs.flatMap((input) => input.content.map((part) => part.type)));
    // The API requires one image form per request: all URLs or all base64.
    if (kinds.has('image_url') && kinds.has('image_base64')) {
      throw new InvalidArgumentError(
        `${label} cannot mix image URLs and image bytes or data URLs in one call; use one form for every image (or embed the two kinds in separate calls).`,
        { argument: 'inputs' },
      );
    }
    const body: Record<string, unknown> = {
      inputs,
      model: this.modelId,
      ...commonEmbeddingFields(request, label, warnings),
      // The API truncates by default (dropping a cut image whole); embedkit never cuts silently.
      truncation: request.truncate === true,
      encoding_format: 'base64',
    };
    const response = await postJson(this.config, '/multimodalembeddings', body, request);
    const parsed = parseResponse(
      voyageEmbeddingResponseSchema,
      response,
      this.provider,
      'multimodal embeddings',
    );
    const embeddings = decodeAnswer({ provider: this.provider, response }, () =>
      decodeVectors(
        inOrder(parsed.data, request.inputs.length, 'vectors', this.provider).map((item) => item.embedding),
        request.outputType ?? 'float',
      ),
    );
    const out: EmbedResponse = { embeddings, warnings, response: responseInfo(response, parsed.model) };
    if (parsed.usage !== undefined) out.usage = { inputTokens: parsed.usage };
    return out;
  }
}
