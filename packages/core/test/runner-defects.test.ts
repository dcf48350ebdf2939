/**
 * Regression tests for the defects the review of the three engines found (issue 10). Each test names the
 * defect it catches; each fails on the engine before the one runner and passes after. (Defect 1, limits
 * reset by unrelated calls, is in rate-limit.test.ts; 5, cached vectors for the wrong title, in
 * middleware-cache.test.ts; 6, Voyage auto-chunking through embedMany, in the Voyage package.)
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { MAX_TIMER_MS } from '../src/engine/clock.js';
import { embed, embedMany, embedStream, type StreamedEmbedding } from '../src/engine/embed.js';
import { InvalidArgumentError, InvalidRequestError, RateLimitError } from '../src/errors.js';
import { loadApiKey } from '../src/provider-utils.js';
import { rerank } from '../src/rerank.js';
import type { EmbedInput } from '../src/types.js';
import { deferred, numberedInputs, ScriptedModel, tick, until, VirtualClock, vectorFor } from './helpers.js';

/** Collects process warnings while a test runs (MaxListenersExceededWarning, TimeoutOverflowWarning). */
function watchWarnings(): { warnings: Error[]; stop(): void } {
  const warnings: Error[] = [];
  const listener = (warning: Error) => warnings.push(warning);
  process.on('warning', listener);
  return { warnings, stop: () => process.off('warning', listener) };
}

let stopWatching: (() => void) | undefined;
afterEach(() => {
  stopWatching?.();
  stopWatching = undefined;
});

/** An async source the test feeds by hand: `push` an input, `end` it; `next` waits otherwise. */
function handFedSource() {
  const queue: EmbedInput[] = [];
  let waiting: ((step: IteratorResult<EmbedInput>) => void) | undefined;
  let ended = false;
  let returned = false;
  const source: AsyncIterable<EmbedInput> & AsyncIterator<EmbedInput> = {
    [Symbol.asyncIterator]() {
      return source;
    },
    next() {
      const input = queue.shift();
      if (input !== undefined) return Promise.resolve({ value: input, done: false });
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      returned = true;
      waiting?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
  };
  return {
    source,
    push(input: EmbedInput) {
      if (waiting !== undefined) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ value: input, done: false });
      } else queue.push(input);
    },
    end() {
      ended = true;
      waiting?.({ value: undefined, done: true });
    },
    get returned() {
      return returned;
    },
  };
}

describe('defect 2: embedStream stalled on an async source', () => {
  it('yields a finished call while the source is still waiting for its next input', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const feed = handFedSource();
    const iterator = embedStream({ model, inputs: feed.source, flushAfterMs: 10_000 })[
      Symbol.asyncIterator
    ]();
    feed.push('0');
    feed.push('1');
    // The batch [0, 1] is full: it is sent and answered while the source has nothing more to give.
    const first = await iterator.next();
    const second = await iterator.next();
    expect([first.value, second.value]).toEqual([
      { index: 0, embedding: vectorFor('0') },
      { index: 1, embedding: vectorFor('1') },
    ]);
    feed.end();
    expect((await iterator.next()).done).toBe(true);
  });

  it('sends a partly filled call once the source has been idle for flushAfterMs', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 100 } });
    const feed = handFedSource();
    const iterator = embedStream({ model, inputs: feed.source, flushAfterMs: 5 })[Symbol.asyncIterator]();
    feed.push('7');
    const first = await iterator.next();
    expect(first.value).toEqual({ index: 0, embedding: vectorFor('7') });
    expect(model.callInputs).toEqual([['7']]);
    await iterator.return?.(undefined);
    expect(feed.returned).toBe(true);
  });

  it('reports a failed call while the source waits', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: () => {
        throw new InvalidRequestError('rejected', { statusCode: 400 });
      },
    });
    const feed = handFedSource();
    const iterator = embedStream({ model, inputs: feed.source })[Symbol.asyncIterator]();
    feed.push('0');
    await expect(iterator.next()).rejects.toMatchObject({ name: 'InvalidRequestError' });
    expect(feed.returned).toBe(true);
  });

  it('ends the for-await at the caller’s abort while the source waits, and closes the source', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } });
    const feed = handFedSource();
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const item of embedStream({ model, inputs: feed.source, signal: controller.signal }))
        seen.push(item.index);
    })();
    feed.push('0');
    await until(() => seen.length === 1, 'the first result');
    controller.abort();
    await expect(loop).rejects.toMatchObject({ name: 'AbortError' });
    expect(feed.returned).toBe(true);
  });
});

describe('defect 3: a bad input mid-stream threw away finished work', () => {
  it('yields everything before the bad input, in flight or done, then throws its InvalidArgumentError', async () => {
    const gate = deferred();
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 2 },
      respond: async (call) => {
        // The second call is still in flight when the bad input is read.
        if (call.inputs[0] === '2') await gate.promise;
        return undefined;
      },
    });
    const inputs: EmbedInput[] = ['0', '1', '2', '3', '4', { foo: 1 } as never, '6'];
    const seen: StreamedEmbedding[] = [];
    let caught: unknown;
    const loop = (async () => {
      try {
        for await (const item of embedStream({ model, inputs, concurrency: 4 })) seen.push(item);
      } catch (error) {
        caught = error;
      }
    })();
    await until(() => model.calls.length === 3, 'three calls: [0,1], [2,3] and [4]');
    const inFlight = model.calls[1]!.request.signal!;
    gate.resolve();
    await loop;
    expect(inFlight.aborted).toBe(false);
    expect(seen.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
    expect(seen.map((item) => item.embedding)).toEqual(['0', '1', '2', '3', '4'].map(vectorFor));
    expect(InvalidArgumentError.isInstance(caught)).toBe(true);
    expect((caught as InvalidArgumentError).argument).toBe('inputs[5]');
    expect(model.callInputs).toEqual([['0', '1'], ['2', '3'], ['4']]);
  });
});

describe('defect 4: bisection stopped after the first batch', () => {
  it('a too-large batch at offset > 0 whose error also names an input is bisected, with its flags kept', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 4 },
      respond: (call) => {
        if (call.inputs.length > 2 && call.inputs[0] === '4') {
          throw new InvalidRequestError('too many tokens in input 1', {
            statusCode: 400,
            batchTooLarge: true,
            inputIndex: 1,
          });
        }
        return undefined;
      },
    });
    const result = await embedMany({ model, inputs: numberedInputs(8), concurrency: 1 });
    expect(model.callInputs).toEqual([
      ['0', '1', '2', '3'],
      ['4', '5', '6', '7'],
      ['4', '5'],
      ['6', '7'],
    ]);
    expect(result.embeddings).toEqual(numberedInputs(8).map(vectorFor));
  });

  it('the error that ends a bisection names the input in the whole job and keeps retryAfterMs', async () => {
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 4 },
      respond: (call) => {
        if (call.inputs.includes('6')) {
          throw new InvalidRequestError('input too long', {
            statusCode: 400,
            inputIndex: call.inputs.indexOf('6'),
            batchTooLarge: call.inputs.length > 1,
            retryAfterMs: 1_234,
          });
        }
        return undefined;
      },
    });
    const error = (await embedMany({ model, inputs: numberedInputs(8), concurrency: 1 }).catch(
      (caught: unknown) => caught,
    )) as InvalidRequestError;
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error.inputIndex).toBe(6);
    expect(error.retryAfterMs).toBe(1_234);
    expect(model.callInputs.at(-1)).toEqual(['6']);
  });

  it('the same holds for rerank and contextualized jobs: one runner', async () => {
    const calls: string[][] = [];
    const reranker = {
      specificationVersion: 'v1' as const,
      provider: 'scripted',
      modelId: 'reranker',
      capabilities: { maxDocumentsPerCall: 4, supportsParallelCalls: true },
      async doRerank(request: { documents: string[] }) {
        calls.push(request.documents);
        if (request.documents.length > 2 && request.documents[0] === 'd4') {
          throw new InvalidRequestError('too large', { statusCode: 400, batchTooLarge: true, inputIndex: 0 });
        }
        return {
          results: request.documents.map((_, index) => ({ index, relevanceScore: 1 / (index + 1) })),
          warnings: [],
          response: { status: 200, headers: {} },
        };
      },
    };
    const documents = Array.from({ length: 8 }, (_, index) => `d${index}`);
    const result = await rerank({ model: reranker, query: 'q', documents, concurrency: 1 });
    expect(calls.map((call) => call.length)).toEqual([4, 4, 2, 2]);
    expect(result.results).toHaveLength(8);

    const seen: string[][][] = [];
    const contextual = {
      ...new ScriptedModel(),
      specificationVersion: 'v1' as const,
      provider: 'scripted',
      modelId: 'contextual',
      capabilities: new ScriptedModel().capabilities,
      doEmbed: () => Promise.reject(new Error('not used')),
      contextualizedCapabilities: { maxDocumentsPerCall: 4 },
      async doEmbedContextualized(request: { documents: string[][] }) {
        seen.push(request.documents);
        if (request.documents.length > 2 && request.documents[0]![0] === 'c4') {
          throw new InvalidRequestError('too large', { statusCode: 400, batchTooLarge: true, inputIndex: 0 });
        }
        return {
          embeddings: request.documents.map((document) => document.map((chunk) => vectorFor(chunk))),
          warnings: [],
          response: { status: 200, headers: {} },
        };
      },
    };
    const chunks = Array.from({ length: 8 }, (_, index) => [`c${index}`]);
    const embedded = await embedContextualized({ model: contextual, documents: chunks, concurrency: 1 });
    expect(seen.map((call) => call.length)).toEqual([4, 4, 2, 2]);
    expect(embedded.embeddings).toHaveLength(8);
  });
});

describe('defect 7: oversized timers were accepted', () => {
  it.each([
    ['timeoutMs', { timeoutMs: 2_147_483_648 }],
    ['maxRetryDelayMs', { maxRetryDelayMs: 2 ** 40 }],
    ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
  ])('%s above 2,147,483,647 is an InvalidArgumentError before any call', async (argument, settings) => {
    const model = new ScriptedModel();
    const error = await embedMany({ model, inputs: ['0'], ...settings }).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect(model.calls).toHaveLength(0);
  });

  it('a huge server wait is capped at maxRetryDelayMs: one wait, no timer overflow, no spin', async () => {
    const watch = watchWarnings();
    stopWatching = watch.stop;
    const clock = new VirtualClock();
    let failed = false;
    const model = new ScriptedModel({
      clock,
      respond: () => {
        if (!failed) {
          failed = true;
          // Past the largest timer, and within what three retries of the largest cap reach.
          throw new RateLimitError('slow down', { statusCode: 429, retryAfterMs: 3e9 });
        }
        return undefined;
      },
    });
    const retries: number[] = [];
    await embed({
      model,
      input: '0',
      clock,
      maxRetryDelayMs: MAX_TIMER_MS,
      onRetry: (event) => retries.push(event.delayMs),
    });
    expect(retries).toEqual([MAX_TIMER_MS]);
    expect(clock.sleeps.map((sleep) => sleep.ms)).toEqual([MAX_TIMER_MS]);
    await tick();
    expect(watch.warnings.filter((warning) => warning.name === 'TimeoutOverflowWarning')).toEqual([]);
  });
});

describe('defect 8: warnings from a shared signal', () => {
  it('one AbortSignal shared by 50 concurrent calls carries one listener while they run, none after, and prints no warning', async () => {
    const watch = watchWarnings();
    stopWatching = watch.stop;
    const controller = new AbortController();
    const gate = deferred();
    const model = new ScriptedModel({
      respond: async () => {
        await gate.promise;
        return undefined;
      },
    });
    const calls = Array.from({ length: 50 }, (_, index) =>
      embed({ model, input: String(index), signal: controller.signal }),
    );
    await until(() => model.calls.length === 50, 'fifty calls in flight');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    gate.resolve();
    await Promise.all(calls);
    // Once every call has ended, the one listener goes too.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await tick();
    expect(watch.warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('defect 9: bad keys and inputs got the wrong error', () => {
  it.each([
    ['a line break', 'sk-test-key\n'],
    ['a non-Latin-1 character', 'sk-test\u2014key'],
    ['a space', 'sk-test key'],
  ])(
    'a key with %s is an InvalidArgumentError naming where it came from, not a retried ConnectionError',
    (_label, key) => {
      expect(() =>
        loadApiKey({ apiKey: key, environmentVariables: ['OPENAI_API_KEY'], provider: 'openai' }),
      ).toThrowError(expect.objectContaining({ name: 'InvalidArgumentError', argument: 'apiKey' }));
      process.env.EMBEDKIT_TEST_KEY = `prefix-${key}-suffix`;
      try {
        let error: unknown;
        try {
          loadApiKey({ apiKey: undefined, environmentVariables: ['EMBEDKIT_TEST_KEY'], provider: 'openai' });
        } catch (caught) {
          error = caught;
        }
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain('EMBEDKIT_TEST_KEY');
        expect((error as Error).message).not.toContain('prefix-');
      } finally {
        delete process.env.EMBEDKIT_TEST_KEY;
      }
    },
  );

  it.each([
    ['an object with none of text, image, content', { foo: 1 }],
    ['an object with both text and image', { text: 'a', image: 'https://example.test/a.png' }],
    ['an array', ['a']],
    ['a number', 42],
    ['content that is not a list', { content: 'a' }],
    ['a content part of an unknown type', { content: [{ type: 'audio', data: 'x' }] }],
    ['a non-string title', { text: 'a', title: 7 }],
  ])('%s is an InvalidArgumentError with its index, before any call', async (_label, input) => {
    const model = new ScriptedModel();
    const error = await embedMany({ model, inputs: ['ok', input as never] }).catch(
      (caught: unknown) => caught,
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toMatch(/^inputs\[1\]/);
    expect((error as Error).message).toMatch(/input 1/i);
    expect(model.calls).toHaveLength(0);
  });
});
