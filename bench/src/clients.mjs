// Every client the bench measures, each used the way its documentation shows, against the same loopback
// server. A client is `{ id, label, wire, source, create(context) }`; `create` returns
// `{ embed(inputs), vectors(result) }`. `embed` is the whole user-facing job (splitting into calls of
// `batch`, `concurrency` calls in flight, decoding); `vectors` picks the vectors out of what it returned.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serverTokens } from './data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const benchDirectory = dirname(here);
export const peersDirectory = join(benchDirectory, '.peers');

/** Model ids sent on each wire (the loopback server accepts any; these allow every dimension benchmarked). */
export const MODELS = {
  openai: 'text-embedding-3-large',
  voyage: 'voyage-3.5',
  gemini: 'gemini-embedding-001',
};

/** Imports a peer package installed in bench/.peers (never from the workspace). */
export async function loadPeer(specifier) {
  const loader = join(peersDirectory, 'load.mjs');
  if (!existsSync(loader)) throw new Error(`peers are not installed in ${peersDirectory}`);
  const { load } = await import(pathToFileURL(loader).href);
  return load(specifier);
}

/** A `TokenCounter` that counts exactly as the loopback server charges (used only to diagnose the rate-limit run). */
const SERVER_TOKEN_COUNTER = {
  exact: true,
  count: (input) => serverTokens(typeof input === 'string' ? input : input.text),
};

/** Retries every client is allowed in the rate-limit run (each client's own retry setting). */
const RETRIES = 10;

/** Splits `items` into arrays of at most `size`. */
function chunk(items, size) {
  const out = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/**
 * The loop a user writes around a client that embeds one call at a time: `concurrency` calls in flight
 * (a sliding pool), results kept in order. Shared by every such client, the floor included.
 */
async function mapPool(items, concurrency, worker) {
  const results = new Array(items.length);
  let next = 0;
  async function run() {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, run));
  return results;
}

/** Loads an embedkit provider package, or explains why it cannot be used yet. */
async function loadEmbedkitProvider(name, factory) {
  let module;
  try {
    module = await import(`@embedkit/${name}`);
  } catch (error) {
    throw new Skip(
      `@embedkit/${name} is not built yet (${String(error.code ?? error.message).slice(0, 80)})`,
    );
  }
  const create = module[factory];
  if (typeof create !== 'function') throw new Skip(`@embedkit/${name} does not export ${factory}() yet`);
  return create;
}

/** Thrown by `create` when a client cannot run here (package missing); the row is reported as skipped. */
export class Skip extends Error {}

/**
 * An embedkit client on one wire: `embedMany` over the provider's model, with the bench's limits. In the
 * rate-limit run, `clientRateLimit` (plain numbers, as the parent sends them) becomes one limiter shared
 * by the job and by `query`, which embeds single inputs the way a search endpoint does meanwhile.
 */
function embedkitClient({ id, label, wire, providerPackage, factory, settings = {} }) {
  return {
    id,
    label,
    wire,
    source: `@embedkit/${providerPackage}`,
    embedkit: true,
    async create({
      baseURL,
      key,
      dimensions,
      batch,
      concurrency,
      rateLimited,
      clientRateLimit,
      exactTokens,
    }) {
      const { createRateLimiter, embed, embedMany } = await import('@embedkit/core');
      const create = await loadEmbedkitProvider(providerPackage, factory);
      const model = create({ baseURL: baseURL[wire], apiKey: key, ...settings }).embedding(MODELS[wire]);
      const rateLimit = clientRateLimit === undefined ? undefined : createRateLimiter(clientRateLimit);
      const common = {
        model,
        dimensions,
        ...(rateLimited ? { maxRetries: RETRIES } : {}),
        ...(rateLimit === undefined ? {} : { rateLimit }),
        ...(exactTokens ? { tokenCounter: SERVER_TOKEN_COUNTER } : {}),
      };
      return {
        embed: (inputs) => embedMany({ ...common, inputs, maxInputsPerCall: batch, concurrency }),
        query: (input) => embed({ ...common, input }),
        vectors: (result) => result.embeddings,
      };
    },
  };
}

export const CLIENTS = [
  {
    id: 'floor',
    label: 'floor (undici.request + Buffer base64)',
    wire: 'openai',
    source: 'undici',
    async create({ baseURL, key, dimensions, batch, concurrency }) {
      const { request } = await import('undici');
      const url = `${baseURL.openai}/embeddings`;
      const bytes = dimensions * 4;
      const call = async (inputs) => {
        const response = await request(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: MODELS.openai,
            input: inputs,
            encoding_format: 'base64',
            dimensions,
          }),
        });
        if (response.statusCode !== 200)
          throw new Error(`status ${response.statusCode}: ${await response.body.text()}`);
        const { data } = await response.body.json();
        // One exactly sized slab per response, a Float32Array view per vector.
        const slab = Buffer.allocUnsafeSlow(bytes * data.length);
        for (const item of data) slab.write(item.embedding, item.index * bytes, bytes, 'base64');
        const out = new Array(data.length);
        for (let index = 0; index < data.length; index++)
          out[index] = new Float32Array(slab.buffer, index * bytes, dimensions);
        return out;
      };
      return {
        embed: async (inputs) => (await mapPool(chunk(inputs, batch), concurrency, call)).flat(),
        vectors: (result) => result,
      };
    },
  },
  ...['base64', 'float'].map((encodingFormat) =>
    embedkitClient({
      id: `embedkit-${encodingFormat}`,
      label: `embedkit (${encodingFormat})`,
      wire: 'openai',
      providerPackage: 'provider-openai',
      factory: 'createOpenAI',
      settings: { encodingFormat },
    }),
  ),
  {
    id: 'ai-sdk-openai',
    label: 'AI SDK (ai + @ai-sdk/openai)',
    wire: 'openai',
    source: 'ai',
    peer: true,
    async create({ baseURL, key, dimensions, batch, concurrency, rateLimited }) {
      const { embedMany } = await loadPeer('ai');
      const { createOpenAI } = await loadPeer('@ai-sdk/openai');
      const model = createOpenAI({ baseURL: baseURL.openai, apiKey: key }).embedding(MODELS.openai);
      // The AI SDK splits by the model's own limit (2,048); calls of `batch` need the limit lowered.
      model.maxEmbeddingsPerCall = batch;
      return {
        embed: (values) =>
          embedMany({
            model,
            values,
            maxParallelCalls: concurrency,
            providerOptions: { openai: { dimensions } },
            ...(rateLimited ? { maxRetries: RETRIES } : {}),
          }),
        vectors: (result) => result.embeddings,
      };
    },
  },
  {
    id: 'openai',
    label: 'openai (official client)',
    wire: 'openai',
    source: 'openai',
    peer: true,
    async create({ baseURL, key, dimensions, batch, concurrency, rateLimited }) {
      const OpenAI = (await loadPeer('openai')).default;
      const client = new OpenAI({
        baseURL: baseURL.openai,
        apiKey: key,
        ...(rateLimited ? { maxRetries: RETRIES } : {}),
      });
      return {
        embed: async (inputs) =>
          (
            await mapPool(chunk(inputs, batch), concurrency, (input) =>
              client.embeddings.create({ model: MODELS.openai, input, dimensions }),
            )
          ).flatMap((response) => response.data.map((item) => item.embedding)),
        vectors: (result) => result,
      };
    },
  },
  {
    id: 'langchain-openai',
    label: '@langchain/openai',
    wire: 'openai',
    source: '@langchain/openai',
    peer: true,
    async create({ baseURL, key, dimensions, batch, concurrency, rateLimited }) {
      const { OpenAIEmbeddings } = await loadPeer('@langchain/openai');
      const embeddings = new OpenAIEmbeddings({
        model: MODELS.openai,
        apiKey: key,
        configuration: { baseURL: baseURL.openai },
        batchSize: batch,
        maxConcurrency: concurrency,
        dimensions,
        ...(rateLimited ? { maxRetries: RETRIES } : {}),
      });
      return { embed: (inputs) => embeddings.embedDocuments(inputs), vectors: (result) => result };
    },
  },
  embedkitClient({
    id: 'embedkit-voyage',
    label: 'embedkit (voyage)',
    wire: 'voyage',
    providerPackage: 'provider-voyage',
    factory: 'createVoyage',
  }),
  {
    id: 'voyageai',
    label: 'voyageai (official client)',
    wire: 'voyage',
    source: 'voyageai',
    peer: true,
    async create({ baseURL, key, dimensions, batch, concurrency, rateLimited }) {
      const { VoyageAIClient } = await loadPeer('voyageai');
      const client = new VoyageAIClient({
        apiKey: key,
        baseUrl: baseURL.voyage,
        ...(rateLimited ? { maxRetries: RETRIES } : {}),
      });
      return {
        embed: async (inputs) =>
          (
            await mapPool(chunk(inputs, batch), concurrency, (input) =>
              client.embed({ input, model: MODELS.voyage, outputDimension: dimensions }),
            )
          ).flatMap((response) => response.data.map((item) => item.embedding)),
        vectors: (result) => result,
      };
    },
  },
  embedkitClient({
    id: 'embedkit-gemini',
    label: 'embedkit (gemini)',
    wire: 'gemini',
    providerPackage: 'provider-gemini',
    factory: 'createGemini',
  }),
  {
    id: 'ai-sdk-google',
    label: 'AI SDK (ai + @ai-sdk/google)',
    wire: 'gemini',
    source: '@ai-sdk/google',
    peer: true,
    async create({ baseURL, key, dimensions, batch, concurrency, rateLimited }) {
      const { embedMany } = await loadPeer('ai');
      const { createGoogleGenerativeAI } = await loadPeer('@ai-sdk/google');
      const model = createGoogleGenerativeAI({ baseURL: baseURL.gemini, apiKey: key }).embedding(
        MODELS.gemini,
      );
      model.maxEmbeddingsPerCall = Math.min(batch, model.maxEmbeddingsPerCall);
      return {
        embed: (values) =>
          embedMany({
            model,
            values,
            maxParallelCalls: concurrency,
            providerOptions: { google: { outputDimensionality: dimensions } },
            ...(rateLimited ? { maxRetries: RETRIES } : {}),
          }),
        vectors: (result) => result.embeddings,
      };
    },
  },
  {
    id: 'google-genai',
    label: '@google/genai (official client)',
    wire: 'gemini',
    source: '@google/genai',
    peer: true,
    async create({ baseURL, key, dimensions, batch, concurrency, rateLimited }) {
      const { GoogleGenAI } = await loadPeer('@google/genai');
      // The SDK appends its API version (v1beta) to baseUrl itself.
      const client = new GoogleGenAI({
        apiKey: key,
        httpOptions: {
          baseUrl: baseURL.geminiRoot,
          ...(rateLimited ? { retryOptions: { attempts: RETRIES + 1 } } : {}),
        },
      });
      return {
        embed: async (inputs) =>
          (
            await mapPool(chunk(inputs, batch), concurrency, (contents) =>
              client.models.embedContent({
                model: MODELS.gemini,
                contents,
                config: { outputDimensionality: dimensions },
              }),
            )
          ).flatMap((response) => response.embeddings.map((item) => item.values)),
        vectors: (result) => result,
      };
    },
  },
];

export function clientById(id) {
  const client = CLIENTS.find((candidate) => candidate.id === id);
  if (client === undefined) throw new Error(`unknown client ${id}`);
  return client;
}

/** Base URLs of every wire on the loopback server at `port`. */
export function baseURLs(port) {
  const root = `http://127.0.0.1:${port}`;
  return {
    openai: `${root}/openai/v1`,
    voyage: `${root}/voyage/v1`,
    gemini: `${root}/gemini/v1beta`,
    geminiRoot: `${root}/gemini`,
  };
}
