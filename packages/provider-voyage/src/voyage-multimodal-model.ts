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
 * How an input's images go: 0 as URLs (or it has none), 1 as base64. The API takes one form per request,
 * so an input holding both cannot be sent at all.
 */
function imageForm(content: WirePart[], index: number, label: string): 0 | 1 {
  const kinds = new Set(content.map((part) => part.type));
  if (kinds.has('image_url') && kinds.has('image_base64')) {
    throw new InvalidArgumentError(
      `inputs[${index}] holds both image URLs and image bytes or data URLs; ${label} takes one form per request, so give every image of an input in one form.`,
      { argument: `inputs[${index}]` },
    );
  }
  return kinds.has('image_base64') ? 1 : 0;
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

  checkInput(input: EmbedInput, index: number): void {
    imageForm(wireContent(input, index), index, `${this.provider} model ${this.modelId}`);
  }

  async doEmbed(request: EmbedRequest): Promise<EmbedResponse> {
    readProviderOptions(voyageEmbeddingOptionsSchema, this.provider, request.providerOptions);
    const label = `${this.provider} model ${this.modelId}`;
    const inputs = request.inputs.map((input, index) => ({ content: wireContent(input, index) }));
    // The API takes one image form per request, all URLs or all base64. One input holding both cannot be
    // sent at all; a call whose inputs use one form each goes as two requests, one per form (inputs of
    // text alone go with the URLs), and the answers are put back in input order.
    const forms = inputs.map((input, index) => imageForm(input.content, index, label));
    const groups = [0, 1]
      .map((form) => forms.flatMap((each, index) => (each === form ? [index] : [])))
      .filter((group) => group.length > 0);
    const warnings: Warning[] = [];
    const fields = commonEmbeddingFields(request, label, warnings);
    const embeddings = new Array<EmbedResponse['embeddings'][number]>(inputs.length);
    let usage: number | undefined = 0;
    let info: EmbedResponse['response'] | undefined;
    for (const group of groups) {
      const body: Record<string, unknown> = {
        inputs: group.map((index) => inputs[index]!),
        model: this.modelId,
        ...fields,
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
      const vectors = decodeAnswer({ provider: this.provider, response }, () =>
        decodeVectors(
          inOrder(parsed.data, group.length, 'vectors', this.provider).map((item) => item.embedding),
          request.outputType ?? 'float',
        ),
      );
      group.forEach((index, position) => {
        embeddings[index] = vectors[position]!;
      });
      usage = usage === undefined || parsed.usage === undefined ? undefined : usage + parsed.usage;
      // The last answer's headers: the freshest word on the API's limits.
      info = responseInfo(response, parsed.model);
    }
    const out: EmbedResponse = { embeddings, warnings, response: info! };
    if (usage !== undefined) out.usage = { inputTokens: usage };
    return out;
  }
}
