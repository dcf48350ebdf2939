import type { EmbeddingModelMiddleware } from './middleware.js';
import type { Embedding, EmbeddingModel, EmbedInput, EmbedRequest, EmbedResponse } from './types.js';

/** Where cached vectors live: the in-memory LRU below, or your own (Redis, SQLite, a file). */
export interface CacheStore {
  get(key: string): Promise<Embedding | undefined> | Embedding | undefined;
  set(key: string, value: Embedding): Promise<void> | void;
}

/** An in-memory least-recently-used store. */
export function createMemoryCacheStore(
  options: { maxEntries?: number } = {},
): CacheStore & { readonly size: number; clear(): void } {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Embedding>();
  return {
    get size() {
      return entries.size;
    },
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    clear() {
      entries.clear();
    },
  };
}

function serializeInput(input: EmbedInput): unknown {
  if (typeof input === 'string') return input;
  if ('image' in input)
    return {
      image: input.image instanceof Uint8Array ? bytesKey(input.image) : input.image,
      mediaType: input.mediaType ?? null,
    };
  if ('content' in input) {
    return {
      content: input.content.map((part) =>
        part.type === 'image' && 'data' in part ? { ...part, data: bytesKey(part.data) } : part,
      ),
    };
  }
  return input;
}

function bytesKey(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** The cache key of one input: SHA-256 over every setting that changes the vector, and the input. */
export async function cacheKey(
  model: EmbeddingModel,
  request: Omit<EmbedRequest, 'inputs'>,
  input: EmbedInput,
): Promise<string> {
  const material = JSON.stringify([
    'embedkit-cache-v1',
    model.provider,
    model.modelId,
    request.inputType ?? null,
    request.dimensions ?? null,
    request.outputType ?? 'float',
    request.truncate ?? false,
    request.providerOptions ?? null,
    serializeInput(input),
  ]);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(material));
  return bytesKey(new Uint8Array(digest));
}

function copy(vector: Embedding): Embedding {
  return vector.slice();
}

/**
 * Serves repeated inputs from `store` and sends only the misses, in one call. Stored vectors are
 * copies (never views into a response slab), and callers get copies too, so mutating a result is safe.
 */
export function cacheMiddleware(options: { store?: CacheStore } = {}): EmbeddingModelMiddleware {
  const store = options.store ?? createMemoryCacheStore();
  return {
    async wrapEmbed({ doEmbed, request, model }): Promise<EmbedResponse> {
      const keys = await Promise.all(request.inputs.map((input) => cacheKey(model, request, input)));
      const found = await Promise.all(keys.map((key) => store.get(key)));
      const missing: number[] = [];
      for (let index = 0; index < found.length; index++) if (found[index] === undefined) missing.push(index);
      if (missing.length === 0) {
        return {
          embeddings: found.map((vector) => copy(vector!)),
          usage: { inputTokens: 0 },
          warnings: [],
          response: { status: 200, headers: { 'x-embedkit-cache': 'hit' } },
        };
      }
      // Only the misses travel on: their positions in the job change, so the position fields go unless all missed.
      const forwarded: EmbedRequest = { ...request, inputs: missing.map((index) => request.inputs[index]!) };
      if (missing.length !== request.inputs.length) {
        delete forwarded.inputOffset;
        delete forwarded.totalInputs;
      }
      const response = await doEmbed(forwarded);
      const embeddings = found.map((vector) => (vector === undefined ? undefined : copy(vector)));
      await Promise.all(
        missing.map(async (inputIndex, position) => {
          const vector = response.embeddings[position];
          if (vector === undefined) return;
          embeddings[inputIndex] = vector;
          await store.set(keys[inputIndex]!, copy(vector));
        }),
      );
      return { ...response, embeddings: embeddings as Embedding[] };
    },
  };
}
