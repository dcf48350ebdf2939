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
  postJson,
  type RateLimiter,
  readProviderOptions,
  type Warning,
} from '@embedkit/core/provider';
import { embeddingAnswer } from './voyage-api.js';
import { type VoyageEmbeddingOptions, voyageEmbeddingOptionsSchema } from './voyage-options.js';
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

/** How the API takes an image: a URL it fetches, or base64 (bytes, or a data URL). */
type ImageForm = 'url' | 'base64';

/** The form an image goes in, once checked (nothing is encoded here). */
function imageForm(image: string | Uint8Array, mediaType: string | undefined, where: string): ImageForm {
  if (image instanceof Uint8Array) {
    if (image.length === 0)
      throw new InvalidArgumentError(`${where} is an empty image.`, { argument: where });
    checkMediaType(mediaType, where);
    return 'base64';
  }
  if (typeof image !== 'string')
    throw new InvalidArgumentError(`${where} must be a URL or bytes.`, { argument: where });
  const dataUrl = parseDataUrl(image);
  if (dataUrl !== undefined) {
    checkMediaType(dataUrl.mediaType, where);
    return 'base64';
  }
  if (/^https?:\/\/./i.test(image)) return 'url';
  throw new InvalidArgumentError(
    `${where} must be an http(s) URL, a base64 data URL or bytes with a mediaType.`,
    {
      argument: where,
    },
  );
}

/** An image as the API takes it: a URL it fetches (`image_url`) or a base64 data URL (`image_base64`). */
function imagePart(image: string | Uint8Array, mediaType: string | undefined, where: string): WirePart {
  if (imageForm(image, mediaType, where) === 'url') return { type: 'image_url', image_url: image as string };
  return {
    type: 'image_base64',
    image_base64:
      image instanceof Uint8Array
        ? `data:${(mediaType as string).toLowerCase()};base64,${bytesToBase64(image)}`
        : image,
  };
}

/** One part of an input, its structure checked: a text, or an image with where it sits (for messages). */
type Part =
  | { kind: 'text'; text: string }
  | { kind: 'image'; image: string | Uint8Array; mediaType: string | undefined; where: string };

/** The parts of an input, in order; an input with no parts, an empty text part or an unknown one is refused. */
function partsOf(input: EmbedInput, index: number): Part[] {
  const where = `inputs[${index}]`;
  if (typeof input === 'string') return [{ kind: 'text', text: input }];
  if ('text' in input) return [{ kind: 'text', text: input.text }];
  if ('image' in input) return [{ kind: 'image', image: input.image, mediaType: input.mediaType, where }];
  if (!Array.isArray(input.content) || input.content.length === 0) {
    throw new InvalidArgumentError(`${where} has no content parts.`, { argument: where });
  }
  return input.content.map((part: ContentPart, position): Part => {
    const at = `${where}.content[${position}]`;
    if (part.type === 'text') {
      if (typeof part.text !== 'string' || part.text.length === 0)
        throw new InvalidArgumentError(`${at} is an empty text part.`, { argument: at });
      return { kind: 'text', text: part.text };
    }
    if (part.type === 'image')
      return 'data' in part
        ? { kind: 'image', image: part.data, mediaType: part.mediaType, where: at }
        : { kind: 'image', image: part.url, mediaType: undefined, where: at };
    throw new InvalidArgumentError(`${at} has an unknown part type.`, { argument: at });
  });
}

/** An input as the API takes it. */
function wireContent(input: EmbedInput, index: number): WirePart[] {
  return partsOf(input, index).map((part) =>
    part.kind === 'text'
      ? { type: 'text', text: part.text }
      : imagePart(part.image, part.mediaType, part.where),
  );
}

/**
 * The image forms an input holds, each image checked (nothing encoded): checked once per input before a
 * job's first call, and grouped by, so that no request mixes the two.
 */
function imageForms(input: EmbedInput, index: number): Set<ImageForm> {
  const forms = new Set<ImageForm>();
  for (const part of partsOf(input, index))
    if (part.kind === 'image') forms.add(imageForm(part.image, part.mediaType, part.where));
  return forms;
}

/** The one image form of an input (undefined for text alone); an input holding both cannot be sent. */
function inputForm(input: EmbedInput, index: number, label: string): ImageForm | undefined {
  const forms = imageForms(input, index);
  if (forms.size > 1) {
    throw new InvalidArgumentError(
      `inputs[${index}] holds both image URLs and image bytes or data URLs; ${label} takes one form per request, so give every image of an input in one form.`,
      { argument: `inputs[${index}]` },
    );
  }
  return forms.values().next().value;
}

/**
 * A Voyage multimodal embedding model (`voyage-multimodal-3`, `voyage-multimodal-3.5`): one request to
 * `POST {baseURL}/multimodalembeddings` per call. Text, images and interleaved content; images go as
 * URLs the API fetches or as base64 data URLs.
 */
export class VoyageMultimodalEmbeddingModel
  implements EmbeddingModel<ProviderOptionsFor<'voyage', VoyageEmbeddingOptions>>
{
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

  customBaseURL(): string | undefined {
    return this.config.customBaseURL();
  }

  checkInput(input: EmbedInput, index: number): void {
    inputForm(input, index, `${this.provider} model ${this.modelId}`);
  }

  /** The API takes images all as URLs or all as base64 in one request: the engine never mixes them in a call. */
  callGroup(input: EmbedInput): string | undefined {
    return inputForm(input, 0, `${this.provider} model ${this.modelId}`);
  }

  async doEmbed(
    request: EmbedRequest<ProviderOptionsFor<'voyage', VoyageEmbeddingOptions>>,
  ): Promise<EmbedResponse> {
    const warnings: Warning[] = [];
    readProviderOptions(voyageEmbeddingOptionsSchema, this.provider, request.providerOptions);
    const label = `${this.provider} model ${this.modelId}`;
    const forms = new Set(request.inputs.map((input, index) => inputForm(input, index, label)));
    // The engine sends each form in calls of its own; a direct caller must do the same.
    if (forms.has('url') && forms.has('base64')) {
      throw new InvalidArgumentError(
        `${label} cannot mix image URLs and image bytes or data URLs in one call; use one form for every image (embedMany and embedStream send each form in calls of its own).`,
        { argument: 'inputs' },
      );
    }
    const inputs = request.inputs.map((input, index) => ({ content: wireContent(input, index) }));
    const body: Record<string, unknown> = {
      inputs,
      model: this.modelId,
      ...commonEmbeddingFields(request, label, warnings),
      // The API truncates by default (dropping a cut image whole); embedkit never cuts silently.
      truncation: request.truncate === true,
      // This endpoint names its base64 field `output_encoding` (Voyage's and the Atlas specs), not
      // `encoding_format` as /embeddings does. A server that ignores it answers JSON numbers, read the same.
      output_encoding: 'base64',
    };
    const response = await postJson(this.config, '/multimodalembeddings', body, request);
    return embeddingAnswer(this.provider, response, request, 'multimodal embeddings', warnings);
  }
}
