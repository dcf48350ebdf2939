import { fileURLToPath } from 'node:url';
import { type EmbeddingModel, embed, embedMany, topK } from '@embedkit/core';
import { createOpenAI, createOpenAICompatible } from '@embedkit/provider-openai';
import { createReplayDispatcher, readCassette } from '@embedkit/replay/node';

/** The documents and query of OneRouter's semantic-search guide. */
export const documents = [
  'The cat sat on the mat',
  'Dogs are loyal companions',
  'Python is a programming language',
  'Machine learning models require training data',
  'The weather is sunny today',
];
export const query = 'pets and animals';

const MODEL_ID = 'text-embedding-3-small';
/** 256 dimensions: a sixth of the default size, plenty for five sentences. */
const DIMENSIONS = 256;

export const CASSETTE_FILE = fileURLToPath(new URL('../cassettes/semantic-search.json', import.meta.url));

export interface DemoResult {
  mode: 'live' | 'replay';
  source: string;
  ranked: { document: string; score: number }[];
  usage?: { inputTokens: number };
}

interface Setup {
  model: EmbeddingModel;
  mode: DemoResult['mode'];
  source: string;
  close(): Promise<void>;
}

function setUp(env: Record<string, string | undefined>): Setup {
  const forceReplay = env.EMBEDKIT_REPLAY === '1';
  if (!forceReplay && env.ONEROUTER_API_KEY) {
    const onerouter = createOpenAICompatible({
      name: 'onerouter',
      baseURL: 'https://llm.onerouter.pro/v1',
      apiKey: env.ONEROUTER_API_KEY,
      capabilities: {
        maxInputsPerCall: 2048,
        dimensions: { min: 1, max: 1536 },
        defaultDimensions: 1536,
        normalized: true,
      },
    });
    return {
      model: onerouter.embedding(MODEL_ID),
      mode: 'live',
      source: 'OneRouter (ONEROUTER_API_KEY is set)',
      close: async () => {},
    };
  }
  if (!forceReplay && env.OPENAI_API_KEY) {
    return {
      model: createOpenAI({ apiKey: env.OPENAI_API_KEY }).embedding(MODEL_ID),
      mode: 'live',
      source: 'OpenAI (OPENAI_API_KEY is set)',
      close: async () => {},
    };
  }
  const recordedAt = 'https://api.openai.com/v1';
  const replay = createReplayDispatcher(recordedAt, [readCassette(CASSETTE_FILE)]);
  // The cassette holds no key; the provider still wants one to build its request. The API root is the
  // one recorded at, whatever OPENAI_BASE_URL says (a shell set up for a gateway).
  const model = createOpenAI({
    apiKey: 'replay-without-a-key',
    baseURL: recordedAt,
    dispatcher: replay.dispatcher,
  }).embedding(MODEL_ID);
  return {
    model,
    mode: 'replay',
    source: forceReplay
      ? 'a recorded exchange (EMBEDKIT_REPLAY=1 is set: unset it to run live)'
      : 'a recorded exchange (no API key set: set OPENAI_API_KEY or ONEROUTER_API_KEY to run live)',
    async close() {
      const unused = replay.pending();
      await replay.close();
      if (unused.length > 0)
        throw new Error(`the demo did not use every recorded exchange: ${unused.join(', ')}`);
    },
  };
}

/** Embeds the documents and the query, then ranks the documents by cosine similarity. */
export async function runDemo(env: Record<string, string | undefined> = process.env): Promise<DemoResult> {
  const setup = setUp(env);
  let failed = false;
  try {
    const corpus = await embedMany({ model: setup.model, inputs: documents, dimensions: DIMENSIONS });
    const question = await embed({ model: setup.model, input: query, dimensions: DIMENSIONS });
    const ranked = topK(
      question.embedding as Float32Array,
      corpus.embeddings as Float32Array[],
      documents.length,
    ).map(({ index, score }) => ({
      document: documents[index]!,
      score,
    }));
    const result: DemoResult = { mode: setup.mode, source: setup.source, ranked };
    if (corpus.usage !== undefined && question.usage !== undefined)
      result.usage = { inputTokens: corpus.usage.inputTokens + question.usage.inputTokens };
    return result;
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // After a failure, the error that ended the run is the one to read: a recording it left unused says
    // nothing more, and is not thrown over it.
    await setup.close().catch((closing: unknown) => {
      if (!failed) throw closing;
    });
  }
}

/** The lines the demo prints. */
export function formatDemo(result: DemoResult): string[] {
  return [
    `embedkit semantic search — ${result.mode === 'live' ? 'live call to' : 'replaying'} ${result.source}`,
    `query: "${query}"`,
    ...result.ranked.map(
      ({ document, score }, position) => `  ${position + 1}. ${score.toFixed(4)}  ${document}`,
    ),
    ...(result.usage === undefined ? [] : [`tokens used: ${result.usage.inputTokens}`]),
  ];
}
