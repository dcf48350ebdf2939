import {
  bytesToBase64,
  type ContentPart,
  type EmbeddingCapabilities,
  type EmbeddingModel,
  type EmbedInput,
  type EmbedRequest,
  type EmbedResponse,
  InvalidArgumentError,
  type ProviderOptionsFor,
  parseDataUrl,
  type RateLimiter,
  type Warning,
} from '@embedkit/core/provider';
import type { JinaEmbeddingOptions, JinaModelProfile } from './jina-options.js';
import { embeddingFields, type JinaModelConfig, sendEmbeddings } from './jina-shared.js';

/**
 * v4 and clip-v2 take images up to 8 MB (Jina OpenAPI): 8,000,000 bytes, not 8 MiB. The 388,608 bytes
 * between the two would pass this check and then be refused by the API, after the call was paid for.
 */
const MAX_IMAGE_BYTES = 8_000_000;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Bytes a base64 payload decodes to (padding aside). */
function base64DecodedLength(base64: string): number {
  return Math.floor((base64.replace(/=+$/, '').length * 3) / 4);
}

type WireInput = string | { text: string } | { image: string };

/**
 * An image as the API takes it, checked. With `encode` false (a check before a job's first call) bytes are
 * checked but not encoded: the wire form is then not for sending.
 */
function imageInput(
  image: unknown,
  mediaType: string | undefined,
  where: string,
  encode: boolean,
): { image: string } {
  if (mediaType !== undefined && !/^image\//i.test(mediaType)) {
    throw new InvalidArgumentError(`${where} has media type ${mediaType}; Jina embeds image/* inputs.`, {
      argument: where,
    });
  }
  let base64: string;
  if (image instanceof Uint8Array) {
    if (image.length === 0)
      throw new InvalidArgumentError(`${where} is an empty image.`, { argument: where });
    if (image.length > MAX_IMAGE_BYTES) throw tooLarge(where);
    return { image: encode ? bytesToBase64(image) : '' };
  }
  if (typeof image === 'string' && /^https?:\/\/./i.test(image)) {
    // The API fetches the URL itself.
    return { image };
  }
  if (typeof image === 'string') {
    // The API takes a bare base64 string; a data URL is sent as its payload.
    const dataUrl = parseDataUrl(image);
    if (dataUrl !== undefined && !dataUrl.mediaType.startsWith('image/')) {
      throw new InvalidArgumentError(`${where} is a ${dataUrl.mediaType} data URL, not an image.`, {
        argument: where,
      });
    }
    base64 = dataUrl?.base64 ?? image;
    if (base64.length % 4 !== 0 || !BASE64.test(base64)) {
      throw new InvalidArgumentError(
        `${where} must be an http(s) URL, a base64 string or data URL, or bytes.`,
        { argument: where },
      );
    }
  } else {
    throw new InvalidArgumentError(`${where} must be a URL, a base64 string or bytes.`, { argument: where });
  }
  if (base64DecodedLength(base64) > MAX_IMAGE_BYTES) throw tooLarge(where);
  return { image: base64 };
}

function tooLarge(where: string): InvalidArgumentError {
  return new InvalidArgumentError(`${where} is larger than the 8 MB Jina takes for an image.`, {
    argument: where,
  });
}

function partInput(part: ContentPart, where: string, encode: boolean): WireInput {
  if (part.type === 'text') return { text: part.text };
  if (part.type === 'image') {
    return 'data' in part
      ? imageInput(part.data, part.mediaType, where, encode)
      : imageInput(part.url, undefined, where, encode);
  }
  throw new InvalidArgumentError(`${where} has an unknown part type.`, { argument: where });
}

/**
 * One wire input per unified input. Jina embeds one text or one image per input; interleaved content
 * has no Jina form, so only a one-part `content` is accepted.
 */
export function wireInput(
  input: EmbedInput,
  index: number,
  label: string,
  images: boolean,
  encode = true,
): WireInput {
  const where = `inputs[${index}]`;
  if (typeof input === 'string') return input;
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError(`${where} must be a string or an object with text or image.`, {
      argument: where,
    });
  }
  if ('text' in input) {
    if (typeof input.text !== 'string' || input.text.length === 0) {
      throw new InvalidArgumentError(`${where} has an empty or non-string text.`, { argument: where });
    }
    return { text: input.text };
  }
  if (!images) {
    throw new InvalidArgumentError(
      `${where} is not plain text; ${label} takes text only. Use jina-embeddings-v4 or jina-clip-v2 for images.`,
      { argument: where },
    );
  }
  if ('image' in input) return imageInput(input.image, input.mediaType, where, encode);
  if ('content' in input && Array.isArray(input.content) && input.content.length === 1) {
    return partInput(input.content[0]!, `${where}.content[0]`, encode);
  }
  throw new InvalidArgumentError(
    `${where} has interleaved content; Jina embeds one text or one image per input, so send each part as its own input.`,
    { argument: where },
  );
}

/**
 * One Jina embedding model: one request to `POST {baseURL}/embeddings` per call. Text for every model;
 * images too for jina-embeddings-v4 and jina-clip-v2, as URLs the API fetches or as base64.
 */
export class JinaEmbeddingModel implements EmbeddingModel<ProviderOptionsFor<'jina', JinaEmbeddingOptions>> {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: EmbeddingCapabilities;
  protected readonly profile: JinaModelProfile;
  readonly rateLimiter: RateLimiter | undefined;
  protected readonly config: JinaModelConfig;

  constructor(modelId: string, profile: JinaModelProfile, config: JinaModelConfig) {
    this.modelId = modelId;
    this.provider = config.provider;
    this.capabilities = profile.capabilities;
    this.rateLimiter = config.rateLimiter;
    this.profile = profile;
    this.config = config;
  }

  customBaseURL(): string | undefined {
    return this.config.customBaseURL();
  }

  checkInput(input: EmbedInput, index: number): void {
    // Checked as it will be sent, its image bytes not encoded (that is done once, in the call).
    wireInput(
      input,
      index,
      `${this.provider} model ${this.modelId}`,
      this.capabilities.modalities.includes('image'),
      false,
    );
  }

  async doEmbed(
    request: EmbedRequest<ProviderOptionsFor<'jina', JinaEmbeddingOptions>>,
  ): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    const label = `${this.provider} model ${this.modelId}`;
    const images = this.capabilities.modalities.includes('image');
    let input: WireInput[] = request.inputs.map((item, index) => wireInput(item, index, label, images));
    // A call with images sends every text as `{text}`, the form the API documents for mixed lists;
    // a text-only call sends plain strings.
    if (input.some((item) => typeof item === 'object' && 'image' in item)) {
      input = input.map((item) => (typeof item === 'string' ? { text: item } : item));
    } else {
      input = input.map((item) => (typeof item === 'string' ? item : (item as { text: string }).text));
    }
    const body: Record<string, unknown> = {
      model: this.modelId,
      input,
      ...embeddingFields(request, this.profile, this.provider, label, warnings),
      // `truncate` defaults to false (an over-long input is an error); sent so the choice is explicit.
      truncate: request.truncate === true,
    };
    const outputType = request.outputType ?? 'float';
    const answer = await sendEmbeddings(this.config, body, input.length, outputType, request);
    const out: EmbedResponse = { embeddings: answer.embeddings, warnings, response: answer.response };
    if (answer.usage !== undefined) out.usage = answer.usage;
    return out;
  }
}
