/**
 * The smoke run every runtime executes with the packages as published (resolved through their export
 * conditions, nothing stubbed): a replayed call, then `embed` and `embedMany` against a loopback server
 * through the runtime's default transport. It imports nothing from Node, so it runs unchanged in a
 * page, in Bun and in Deno; the test that starts it checks what it returns.
 */
import { embed, embedMany } from '@embedkit/core';
import { createTransport } from '@embedkit/core/provider';
import { webAssemblyKernelsLoaded } from '@embedkit/core/testing';
import { createOpenAI } from '@embedkit/provider-openai';
import { type Cassette, createReplayFetch } from '@embedkit/replay';

export interface SmokeSettings {
  /** The loopback server's API root, e.g. `http://127.0.0.1:43210/v1`. */
  apiBaseURL: string;
  /** The fake key the loopback server expects. */
  apiKey: string;
  /** A recorded exchange to replay. */
  cassette: Cassette;
}

export interface SmokeResult {
  /** The transport core picked for this runtime with no setting: `fetch` everywhere but Node. */
  defaultTransport: string;
  /** Whether core's WebAssembly kernels loaded here (else JavaScript serves, with the same results). */
  kernels: boolean;
  replay: { vectors: number[][]; usage: unknown; unused: string[]; mismatches: number };
  embed: { vector: number[]; usage: unknown };
  embedMany: { vectors: number[][]; usage: unknown };
}

function leading(vector: ArrayLike<number>, count: number): number[] {
  return Array.from(vector).slice(0, count);
}

export async function runSmoke(settings: SmokeSettings): Promise<SmokeResult> {
  const replay = createReplayFetch([settings.cassette]);
  const replayed = await embedMany({
    model: createOpenAI({ apiKey: 'replay', fetch: replay.fetch }).embedding(settings.cassette.call.modelId),
    inputs: settings.cassette.call.inputs ?? [],
    maxRetries: 0,
  });
  const openai = createOpenAI({ apiKey: settings.apiKey, baseURL: settings.apiBaseURL });
  const model = openai.embedding('text-embedding-3-small');
  const one = await embed({ model, input: 'item 7', dimensions: 4, maxRetries: 0 });
  const many = await embedMany({
    model,
    inputs: ['item 1', 'item 2', 'item 3'],
    dimensions: 4,
    maxInputsPerCall: 2,
    concurrency: 1,
    maxRetries: 0,
  });
  return {
    defaultTransport: createTransport().kind,
    kernels: webAssemblyKernelsLoaded(),
    replay: {
      vectors: replayed.embeddings.map((vector) => leading(vector, 4)),
      usage: replayed.usage ?? null,
      unused: replay.pending(),
      mismatches: replay.mismatches.length,
    },
    embed: { vector: leading(one.embedding, 4), usage: one.usage ?? null },
    embedMany: { vectors: many.embeddings.map((vector) => leading(vector, 4)), usage: many.usage ?? null },
  };
}
