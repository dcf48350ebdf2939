import { describe, expect, it } from 'vitest';
import { embedMany } from '../src/engine/embed.js';
import { RateLimitError } from '../src/errors.js';
import { MockEmbeddingModel } from '../src/testing.js';
import { VirtualClock } from './helpers.js';

function length(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < vector.length; index++) sum += vector[index]! * vector[index]!;
  return Math.sqrt(sum);
}

describe('MockEmbeddingModel', () => {
  it('is a v1 model with sensible defaults', () => {
    const model = new MockEmbeddingModel();
    expect(model.specificationVersion).toBe('v1');
    expect(model.provider).toBe('mock');
    expect(model.modelId).toBe('mock-embedding');
    expect(model.capabilities).toMatchObject({
      maxInputsPerCall: 2048,
      defaultDimensions: 8,
      dimensions: { min: 1, max: 8 },
      outputTypes: ['float'],
      supportsParallelCalls: true,
    });
  });

  it('gives the same unit vector for the same input, across instances, and different ones for different inputs', async () => {
    const one = new MockEmbeddingModel({ dimensions: 16 });
    const two = new MockEmbeddingModel({ dimensions: 16 });
    const [a1, b1] = (await one.doEmbed({ inputs: ['pets and animals', 'Dogs are loyal companions'] }))
      .embeddings;
    const [a2] = (await two.doEmbed({ inputs: ['pets and animals'] })).embeddings;
    expect(a1).toBeInstanceOf(Float32Array);
    expect(a1).toHaveLength(16);
    expect(a2).toEqual(a1);
    expect(b1).not.toEqual(a1);
    expect(length(a1!)).toBeCloseTo(1, 6);
    expect(length(b1!)).toBeCloseTo(1, 6);
    // spread over every dimension, not a one-hot
    expect(Array.from(a1!).filter((value) => value !== 0).length).toBeGreaterThan(12);
  });

  it('a { text } input embeds like the same string', async () => {
    const model = new MockEmbeddingModel();
    const [fromString, fromObject] = (await model.doEmbed({ inputs: ['hello', { text: 'hello' }] }))
      .embeddings;
    expect(fromObject).toEqual(fromString);
  });

  it('honours requested dimensions', async () => {
    const model = new MockEmbeddingModel({ dimensions: 32 });
    const [vector] = (await model.doEmbed({ inputs: ['x'], dimensions: 5 })).embeddings;
    expect(vector).toHaveLength(5);
    expect(length(vector!)).toBeCloseTo(1, 6);
  });

  it('records every request in order', async () => {
    const model = new MockEmbeddingModel();
    const first = { inputs: ['a'], inputType: 'query' as const };
    const second = { inputs: ['b', 'c'] };
    await model.doEmbed(first);
    await model.doEmbed(second);
    expect(model.calls).toEqual([first, second]);
    expect(model.calls[0]).toBe(first);
  });

  it('reports usage as a quarter of the UTF-8 length, rounded up, per input; usage: false reports none', async () => {
    const model = new MockEmbeddingModel();
    // 'abcd' 4 bytes -> 1, 'héllo' 6 bytes -> 2, 'a' -> 1
    expect((await model.doEmbed({ inputs: ['abcd', 'héllo', 'a'] })).usage).toEqual({ inputTokens: 4 });
    const silent = new MockEmbeddingModel({ usage: false });
    expect('usage' in (await silent.doEmbed({ inputs: ['abcd'] }))).toBe(false);
    const custom = new MockEmbeddingModel({ usage: () => 3 });
    expect((await custom.doEmbed({ inputs: ['a', 'b'] })).usage).toEqual({ inputTokens: 6 });
  });

  it('uses custom vectors when given', async () => {
    const model = new MockEmbeddingModel({
      dimensions: 3,
      embed: (input) => (input === 'x' ? [1, 0, 0] : [0, 1, 0]),
    });
    const response = await model.doEmbed({ inputs: ['x', 'y'] });
    expect(response.embeddings).toEqual([Float32Array.of(1, 0, 0), Float32Array.of(0, 1, 0)]);
  });

  it('beforeCall sees each request with its call number and can fail it', async () => {
    const seen: [string[], number][] = [];
    const model = new MockEmbeddingModel({
      beforeCall: (request, callNumber) => {
        seen.push([request.inputs as string[], callNumber]);
        if (callNumber === 1) throw new RateLimitError('simulated', { retryAfterMs: 100 });
      },
    });
    const clock = new VirtualClock({ random: [0] });
    const result = await embedMany({ model, inputs: ['a', 'b'], clock });
    expect(seen).toEqual([
      [['a', 'b'], 1],
      [['a', 'b'], 2],
    ]);
    expect(clock.sleepDurations).toEqual([100]);
    expect(result.embeddings).toHaveLength(2);
  });

  it('refuses a call whose signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      new MockEmbeddingModel().doEmbed({ inputs: ['a'], signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('capabilities can be overridden', () => {
    const model = new MockEmbeddingModel({
      provider: 'p',
      modelId: 'm',
      capabilities: { maxInputsPerCall: 3, supportsParallelCalls: false },
    });
    expect(model.provider).toBe('p');
    expect(model.modelId).toBe('m');
    expect(model.capabilities.maxInputsPerCall).toBe(3);
    expect(model.capabilities.supportsParallelCalls).toBe(false);
  });

  it('passes the engine’s own response checks', async () => {
    const model = new MockEmbeddingModel({ dimensions: 12 });
    const result = await embedMany({ model, inputs: ['a', 'b', 'c'], dimensions: 6, inputType: 'document' });
    expect(result.embeddings.map((vector) => vector.length)).toEqual([6, 6, 6]);
    expect(result.warnings).toEqual([]);
  });
});
