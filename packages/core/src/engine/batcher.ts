import { InvalidArgumentError } from '../errors.js';
import type { EmbeddingModel, EmbedInput } from '../types.js';
import { checkInput } from './settings.js';
import type { TokenCounter } from './token-counter.js';

/** One provider call's worth of inputs, with where they start in the whole job. */
export interface Batch {
  offset: number;
  inputs: EmbedInput[];
  /** Token count of each input, as the counter reported it. */
  tokens: number[];
}

export interface BatchLimits {
  maxInputs: number;
  maxTokens: number | undefined;
  /** Rejects inputs over this many tokens (only with an exact counter and truncate off). */
  maxTokensPerInput: number | undefined;
}

export function batchLimits(
  model: EmbeddingModel,
  counter: TokenCounter,
  truncate: boolean,
  maxInputsPerCall: number | undefined,
): BatchLimits {
  const capabilities = model.capabilities;
  return {
    maxInputs: Math.max(
      1,
      Math.min(capabilities.maxInputsPerCall, maxInputsPerCall ?? Number.POSITIVE_INFINITY),
    ),
    maxTokens: capabilities.maxTokensPerCall,
    maxTokensPerInput: counter.exact && !truncate ? capabilities.maxTokensPerInput : undefined,
  };
}

/**
 * Packs inputs greedily into calls that respect both the count limit and the token budget. An input
 * whose count alone exceeds the budget travels in a call of its own (the provider then decides).
 */
export class Batcher {
  private current: Batch;
  private currentTokens = 0;
  private nextIndex = 0;

  constructor(
    private readonly model: EmbeddingModel,
    private readonly counter: TokenCounter,
    private readonly limits: BatchLimits,
  ) {
    this.current = { offset: 0, inputs: [], tokens: [] };
  }

  /** Adds the next input; returns a full batch when this input did not fit in the open one. */
  push(input: EmbedInput): Batch | undefined {
    const index = this.nextIndex++;
    checkInput(this.model, input, index);
    const tokens = this.counter.count(input);
    const { maxTokensPerInput, maxTokens, maxInputs } = this.limits;
    if (maxTokensPerInput !== undefined && tokens > maxTokensPerInput) {
      throw new InvalidArgumentError(
        `Input ${index} has ${tokens} tokens; ${this.model.provider} model ${this.model.modelId} accepts at most ${maxTokensPerInput}. Shorten it, split it, or pass truncate: true.`,
        { argument: `inputs[${index}]` },
      );
    }
    let full: Batch | undefined;
    const open = this.current;
    if (
      open.inputs.length > 0 &&
      (open.inputs.length >= maxInputs ||
        (maxTokens !== undefined && this.currentTokens + tokens > maxTokens))
    ) {
      full = open;
      this.current = { offset: index, inputs: [], tokens: [] };
      this.currentTokens = 0;
    }
    this.current.inputs.push(input);
    this.current.tokens.push(tokens);
    this.currentTokens += tokens;
    return full;
  }

  /** The last, partly filled batch, if any. */
  flush(): Batch | undefined {
    if (this.current.inputs.length === 0) return undefined;
    const last = this.current;
    this.current = { offset: this.nextIndex, inputs: [], tokens: [] };
    this.currentTokens = 0;
    return last;
  }
}

/** All batches of an array, computed (and every input checked) before anything is sent. */
export function planBatches(
  model: EmbeddingModel,
  inputs: readonly EmbedInput[],
  counter: TokenCounter,
  limits: BatchLimits,
): Batch[] {
  const batcher = new Batcher(model, counter, limits);
  const batches: Batch[] = [];
  for (const input of inputs) {
    const full = batcher.push(input);
    if (full !== undefined) batches.push(full);
  }
  const last = batcher.flush();
  if (last !== undefined) batches.push(last);
  return batches;
}

/** Batches pulled lazily from any (async) iterable: memory holds one open batch. */
export async function* streamBatches(
  model: EmbeddingModel,
  inputs: Iterable<EmbedInput> | AsyncIterable<EmbedInput>,
  counter: TokenCounter,
  limits: BatchLimits,
): AsyncGenerator<Batch> {
  const batcher = new Batcher(model, counter, limits);
  for await (const input of inputs) {
    const full = batcher.push(input);
    if (full !== undefined) yield full;
  }
  const last = batcher.flush();
  if (last !== undefined) yield last;
}
