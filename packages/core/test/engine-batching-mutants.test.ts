/**
 * Behaviour of the engine's packer, answer checks and embed entry points that a mutation sweep of
 * batcher.ts, checks.ts and embed.ts found no test pinning down. Each test names what it pins.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Batch, type ItemCost, Packer, planBatches, streamSource } from '../src/engine/batcher.js';
import { embedMany, embedStream, type StreamedEmbedding } from '../src/engine/embed.js';
import type { PoolSource } from '../src/engine/pool.js';
import { InvalidResponseError } from '../src/errors.js';
import type { Embedding, EmbedInput, OutputType } from '../src/types.js';
import { numberedInputs, ScriptedModel, tick, until, vectorFor } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Item "name:tokens:units:group" costs what it says; an empty field is left out. */
function costOf(item: string): ItemCost {
  const [, tokens, units, group] = item.split(':');
  const cost: ItemCost = { tokens: Number(tokens || 0) };
  if (units) cost.units = Number(units);
  if (group) cost.group = group;
  return cost;
}

function plan(items: string[], limits: ConstructorParameters<typeof Packer<string>>[1]): string[][] {
  const batches: Batch<string>[] = planBatches(items, new Packer<string>(costOf, limits));
  return batches.map((batch) => batch.items.map((item) => item.split(':')[0]!));
}

describe('Packer', () => {
  it('an item of no group after a grouped one keeps the batch’s group: a later item of another group starts a call', () => {
    expect(plan(['a:1::x', 'b:1', 'c:1::y', 'd:1::y'], { maxItems: 10 })).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('an item of no group opens a batch that the first grouped item then joins', () => {
    expect(plan(['a:1', 'b:1::x', 'c:1::x', 'd:1'], { maxItems: 10 })).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('items without units count one unit each against maxUnits', () => {
    expect(plan(['a:1', 'b:1', 'c:1', 'd:1', 'e:1'], { maxItems: 10, maxUnits: 2 })).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
    ]);
  });

  it('a batch holds exactly maxUnits units, and closes before the item that would pass them', () => {
    expect(plan(['a:1:2', 'b:1:1', 'c:1:1', 'd:1:3'], { maxItems: 10, maxUnits: 3 })).toEqual([
      ['a', 'b'],
      ['c'],
      ['d'],
    ]);
  });

  it('records each batch’s offset and each item’s tokens', () => {
    const batches = planBatches(['a:3', 'b:4', 'c:5'], new Packer<string>(costOf, { maxItems: 2 }));
    expect(batches.map((batch) => ({ offset: batch.offset, tokens: batch.tokens }))).toEqual([
      { offset: 0, tokens: [3, 4] },
      { offset: 2, tokens: [5] },
    ]);
  });

  it.each([
    ['items', { maxItems: 1.5 }],
    ['tokens', { maxItems: 2, maxTokens: 0 }],
    ['units', { maxItems: 2, maxUnits: 2.5 }],
  ])('refuses a limit on %s that is not a whole number of at least 1', (name, limits) => {
    expect(() => new Packer<string>(costOf, limits)).toThrow(`The model's limit on ${name} per call is`);
  });

  it('refuses a missing limit on items (only the token and unit limits are optional)', () => {
    expect(() => new Packer<string>(costOf, { maxItems: undefined as unknown as number })).toThrow(
      "The model's limit on items per call is undefined;",
    );
  });

  it('accepts an infinite limit on items', () => {
    expect(plan(['a:1', 'b:1', 'c:1'], { maxItems: Number.POSITIVE_INFINITY })).toEqual([['a', 'b', 'c']]);
  });
});

/**
 * An async source the test feeds by hand. Every `next()` gets its own pending read, and inputs answer the
 * reads in the order they were made (as a queue of readers does): a reader that is dropped loses its input.
 */
function queuedSource(options: { returnEndsReads?: boolean } = {}) {
  const inputs: EmbedInput[] = [];
  const readers: ((step: IteratorResult<EmbedInput>) => void)[] = [];
  let ended = false;
  let reads = 0;
  const source: AsyncIterable<EmbedInput> & AsyncIterator<EmbedInput> = {
    [Symbol.asyncIterator]() {
      return source;
    },
    next() {
      reads++;
      const input = inputs.shift();
      if (input !== undefined) return Promise.resolve({ value: input, done: false });
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => readers.push(resolve));
    },
    return() {
      ended = true;
      if (options.returnEndsReads !== false)
        for (const reader of readers.splice(0)) reader({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
  };
  return {
    source,
    push(input: EmbedInput) {
      const reader = readers.shift();
      if (reader !== undefined) reader({ value: input, done: false });
      else inputs.push(input);
    },
    end() {
      ended = true;
      for (const reader of readers.splice(0)) reader({ value: undefined, done: true });
    },
    get reads() {
      return reads;
    },
    get waiting() {
      return readers.length;
    },
  };
}

async function collect(stream: AsyncIterable<StreamedEmbedding>): Promise<StreamedEmbedding[]> {
  const out: StreamedEmbedding[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

describe('embedStream’s idle flush', () => {
  it('a partly filled call goes out after 500 ms of an idle source by default, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const feed = queuedSource();
    const iterator = embedStream({ model, inputs: feed.source })[Symbol.asyncIterator]();
    feed.push('7');
    const first = iterator.next();
    await until(() => feed.waiting === 1, 'the read after the first input');
    await vi.advanceTimersByTimeAsync(499);
    expect(model.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(model.callInputs).toEqual([['7']]);
    expect(await first).toEqual({ done: false, value: { index: 0, embedding: vectorFor('7') } });
    feed.end();
    expect((await iterator.next()).done).toBe(true);
  });

  it('flushAfterMs sets the wait exactly', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const feed = queuedSource();
    const iterator = embedStream({ model, inputs: feed.source, flushAfterMs: 80 })[Symbol.asyncIterator]();
    feed.push('3');
    const first = iterator.next();
    await until(() => feed.waiting === 1, 'the read after the first input');
    await vi.advanceTimersByTimeAsync(79);
    expect(model.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(model.callInputs).toEqual([['3']]);
    expect((await first).value).toEqual({ index: 0, embedding: vectorFor('3') });
    feed.end();
    expect((await iterator.next()).done).toBe(true);
  });

  it('the read pending at an idle flush still brings its input: nothing is lost, nothing read twice', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const feed = queuedSource();
    const iterator = embedStream({ model, inputs: feed.source, flushAfterMs: 0 })[Symbol.asyncIterator]();
    feed.push('0');
    expect((await iterator.next()).value).toEqual({ index: 0, embedding: vectorFor('0') });
    feed.push('1');
    feed.push('2');
    feed.end();
    const rest: unknown[] = [];
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) rest.push(step.value);
    expect(rest).toEqual([
      { index: 1, embedding: vectorFor('1') },
      { index: 2, embedding: vectorFor('2') },
    ]);
    expect(model.callInputs.flat()).toEqual(['0', '1', '2']);
  });

  it('a sync source, whose reads are already done, arms no idle timer', async () => {
    const flushAfterMs = 43_210;
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const items = await collect(
      embedStream({ model, inputs: ['0', '1', '2', '3', '4'], flushAfterMs, concurrency: 1 }),
    );
    expect(items.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
    expect(model.callInputs).toEqual([['0', '1'], ['2', '3'], ['4']]);
    expect(setSpy.mock.calls.filter((call) => call[1] === flushAfterMs)).toHaveLength(0);
  });

  it('an async source whose values are ready arms no idle timer, through generators that read generators', async () => {
    // An async generator's ready value settles two microtask turns after the read (each generator it reads
    // through adds two). Raced against a promise already resolved, every such read lost: one timer armed
    // and cleared per read, 3 for these five inputs, a million for a million.
    const flushAfterMs = 43_212;
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    async function* ready(inputs: string[]) {
      yield* inputs;
    }
    async function* upper(source: AsyncIterable<string>) {
      for await (const input of source) yield input.toUpperCase();
    }
    for (const inputs of [ready(['a', 'b', 'c', 'd', 'e']), upper(upper(ready(['a', 'b', 'c', 'd', 'e'])))]) {
      const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
      const items = await collect(embedStream({ model, inputs, flushAfterMs, concurrency: 1 }));
      expect(items.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
      expect(model.callInputs).toHaveLength(3);
    }
    expect(setSpy.mock.calls.filter((call) => call[1] === flushAfterMs)).toHaveLength(0);
  });

  it('a slow read that ends before the flush clears its timer', async () => {
    const flushAfterMs = 43_211;
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const feed = queuedSource();
    const run = collect(embedStream({ model, inputs: feed.source, flushAfterMs, concurrency: 1 }));
    feed.push('0');
    await until(() => setSpy.mock.calls.some((call) => call[1] === flushAfterMs), 'the idle timer');
    feed.push('1');
    feed.end();
    const items = await run;
    expect(items.map((item) => item.index)).toEqual([0, 1]);
    expect(model.callInputs).toEqual([['0', '1']]);
    const timers = setSpy.mock.calls.flatMap((call, index) =>
      call[1] === flushAfterMs ? [setSpy.mock.results[index]!.value as unknown] : [],
    );
    const cleared = new Set(clearSpy.mock.calls.map((call) => call[0] as unknown));
    expect(timers).toHaveLength(1);
    expect(timers.filter((timer) => !cleared.has(timer))).toEqual([]);
    await tick();
  });
});

/** A sync iterable of `inputs` that records whether `return()` was called, and can throw at `failAt`. */
function recordingIterable(inputs: string[], failAt?: number) {
  const state = { returned: 0, reads: 0 };
  const iterable: Iterable<string> = {
    [Symbol.iterator]() {
      let position = 0;
      return {
        next(): IteratorResult<string> {
          state.reads++;
          if (position === failAt) throw new Error('the source broke');
          if (position >= inputs.length) return { value: undefined, done: true };
          return { value: inputs[position++]!, done: false };
        },
        return(): IteratorResult<string> {
          state.returned++;
          return { value: undefined, done: true };
        },
      };
    },
  };
  return { iterable, state };
}

describe('embedStream’s source', () => {
  it('a source that ends by itself is not asked to return', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } });
    const { iterable, state } = recordingIterable(['0', '1', '2']);
    const items = await collect(embedStream({ model, inputs: iterable, concurrency: 1 }));
    expect(items.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(state.returned).toBe(0);
  });

  it('a source that throws delivers the inputs read before it, then its error, and is not asked to return', async () => {
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const { iterable, state } = recordingIterable(['0', '1', '2'], 2);
    const seen: StreamedEmbedding[] = [];
    let caught: unknown;
    try {
      for await (const item of embedStream({ model, inputs: iterable, concurrency: 1 })) seen.push(item);
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toBe('the source broke');
    expect(model.callInputs).toEqual([['0', '1']]);
    expect(seen).toEqual([
      { index: 0, embedding: vectorFor('0') },
      { index: 1, embedding: vectorFor('1') },
    ]);
    expect(state.returned).toBe(0);
  });

  it('breaking out of the loop waits for the source to finish closing', async () => {
    const state = { closed: false };
    async function* endless(): AsyncGenerator<string> {
      try {
        for (let index = 0; ; index++) yield String(index);
      } finally {
        await tick();
        state.closed = true;
      }
    }
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } });
    const seen: number[] = [];
    for await (const item of embedStream({ model, inputs: endless(), concurrency: 1 })) {
      seen.push(item.index);
      // Let the pool fill its window, so that no read of the source is pending when the loop breaks.
      for (let turn = 0; turn < 5; turn++) await tick();
      break;
    }
    expect(seen).toEqual([0]);
    expect(state.closed).toBe(true);
  });
});

/** A model answering every input with `make()`, for output types float, int8, binary, uint8 and ubinary. */
function answering(make: () => unknown, response = { status: 200, headers: {} }) {
  return new ScriptedModel({
    capabilities: { outputTypes: ['float', 'int8', 'binary', 'uint8', 'ubinary'], defaultDimensions: 16 },
    respond: (call) => ({
      embeddings: call.inputs.map(() => make() as Embedding),
      warnings: [],
      response,
    }),
  });
}

async function refusedAnswer(run: () => Promise<unknown>): Promise<InvalidResponseError> {
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(InvalidResponseError.isInstance(error), `expected InvalidResponseError, got ${String(error)}`).toBe(
    true,
  );
  return error as InvalidResponseError;
}

describe('answer checks', () => {
  it.each([
    ['binary', () => Int8Array.of(1, -1), () => Uint8Array.of(1, 2), 'Uint8Array', 'Int8Array'],
    ['uint8', () => new Uint8Array(16), () => new Int8Array(16), 'Int8Array', 'Uint8Array'],
    ['ubinary', () => Uint8Array.of(1, 255), () => Int8Array.of(1, -1), 'Int8Array', 'Uint8Array'],
  ] as const)(
    '%s vectors must come back as the matching typed array, bit-packed to dimensions / 8',
    async (outputType, good, bad, badName, goodName) => {
      const result = await embedMany({ model: answering(good), inputs: ['a', 'b'], outputType });
      expect(result.embeddings).toEqual([good(), good()]);
      const error = await refusedAnswer(() =>
        embedMany({
          model: answering(bad),
          inputs: ['a'],
          outputType: outputType as OutputType,
          maxRetries: 0,
        }),
      );
      expect(error.message).toBe(
        `scripted returned vector 0 as ${badName}; ${outputType} vectors must be ${goodName}.`,
      );
    },
  );

  it('names the typed array a wrong vector came as', async () => {
    const error = await refusedAnswer(() =>
      embedMany({ model: answering(() => new Float64Array(16)), inputs: ['a'], maxRetries: 0 }),
    );
    expect(error.message).toBe(
      'scripted returned vector 0 as Float64Array; float vectors must be Float32Array.',
    );
  });

  it('names an infinite value and its position', async () => {
    const vector = () => {
      const values = new Float32Array(16);
      values[3] = Number.POSITIVE_INFINITY;
      return values;
    };
    const error = await refusedAnswer(() =>
      embedMany({ model: answering(vector), inputs: ['a'], maxRetries: 0 }),
    );
    expect(error.message).toBe(
      'scripted returned vector 0 holding Infinity at position 3, not a finite number.',
    );
  });

  it('an error about an answer carries its status code and request id', async () => {
    const model = answering(() => new Float64Array(16), {
      status: 203,
      headers: {},
      requestId: 'req-9',
    } as never);
    const error = await refusedAnswer(() => embedMany({ model, inputs: ['a'], maxRetries: 0 }));
    expect(error.statusCode).toBe(203);
    expect(error.requestId).toBe('req-9');
    expect(error.provider).toBe('scripted');
  });

  it('more vectors than inputs is refused as well as fewer', async () => {
    const model = new ScriptedModel({
      respond: (call) => ({
        embeddings: [...call.inputs, 'extra'].map(vectorFor),
        warnings: [],
        response: { status: 200, headers: {} },
      }),
    });
    const error = await refusedAnswer(() => embedMany({ model, inputs: ['1', '2'], maxRetries: 0 }));
    expect(error.message).toBe('scripted returned 3 vectors for 2 inputs.');
    expect(model.calls).toHaveLength(1);
  });
});

describe('embedStream after its end', () => {
  it('arms no idle timer while no call is partly filled', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const model = new ScriptedModel({ capabilities: { maxInputsPerCall: 10 } });
    const feed = queuedSource();
    const iterator = embedStream({ model, inputs: feed.source, flushAfterMs: 30 })[Symbol.asyncIterator]();
    const first = iterator.next();
    await until(() => feed.waiting === 1, 'the first read');
    for (let turn = 0; turn < 5; turn++) await tick();
    expect(vi.getTimerCount()).toBe(0);
    feed.push('5');
    feed.end();
    expect((await first).value).toEqual({ index: 0, embedding: vectorFor('5') });
    expect((await iterator.next()).done).toBe(true);
  });

  it('a source closed as a read starts arms no idle timer, and the read ends the source at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let source: PoolSource<Batch<string>> | undefined;
    let reads = 0;
    const inputs: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next(): Promise<IteratorResult<string>> {
          reads++;
          if (reads === 1) return Promise.resolve({ value: '0', done: false });
          // The job ends (the consumer broke) just as the second read starts; that read never settles.
          void source?.close();
          return new Promise(() => {});
        },
        return: () => Promise.resolve({ value: undefined, done: true }),
      }),
    };
    source = streamSource(inputs, new Packer<string>(() => ({ tokens: 1 }), { maxItems: 10 }), 30);
    const hung = Symbol('hung');
    const next = source.next();
    const outcome = await Promise.race([
      next,
      (async () => {
        for (let turn = 0; turn < 20; turn++) await tick();
        return hung;
      })(),
    ]);
    expect(outcome).toBeUndefined();
    expect(reads).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an input that arrives after the consumer broke is neither checked nor sent', async () => {
    const checked: EmbedInput[] = [];
    const model = Object.assign(new ScriptedModel({ capabilities: { maxInputsPerCall: 1 } }), {
      checkInput: (input: EmbedInput) => {
        checked.push(input);
      },
    });
    // Like an idle stdin: closing the source does not end the read that waits on it.
    const feed = queuedSource({ returnEndsReads: false });
    feed.push('0');
    const seen: number[] = [];
    for await (const item of embedStream({ model, inputs: feed.source, concurrency: 2 })) {
      seen.push(item.index);
      await until(() => feed.waiting === 1, 'the read after the first input');
      break;
    }
    feed.push('late');
    for (let turn = 0; turn < 10; turn++) await tick();
    expect(seen).toEqual([0]);
    expect(checked).toEqual(['0']);
    expect(model.callInputs).toEqual([['0']]);
  });
});

describe('embedMany and embed', () => {
  it('an input of exactly maxTokensPerInput tokens is sent; one more token is refused before any call', async () => {
    const counter = {
      exact: true,
      count: (input: EmbedInput) => (typeof input === 'string' ? input.length : 1),
    };
    const model = new ScriptedModel({ capabilities: { maxTokensPerInput: 3 } });
    const result = await embedMany({ model, inputs: ['123'], tokenCounter: counter });
    expect(result.embeddings).toEqual([vectorFor('123')]);
    const over = new ScriptedModel({ capabilities: { maxTokensPerInput: 3 } });
    await expect(
      embedMany({ model: over, inputs: ['12', '1234'], tokenCounter: counter }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'inputs[1]',
      message:
        'Input 1 has 4 tokens; scripted model scripted-1 accepts at most 3. Shorten it, split it, or pass truncate: true.',
    });
    expect(over.calls).toHaveLength(0);
  });

  it('a model checks its inputs with the call’s settings, headers aside', async () => {
    const seen: unknown[] = [];
    const model = Object.assign(new ScriptedModel(), {
      checkInput: (_input: EmbedInput, _index: number, settings: unknown) => {
        seen.push(settings);
      },
      callGroup: (_input: EmbedInput, settings: unknown) => {
        seen.push(settings);
        return undefined;
      },
    });
    await embedMany({
      model,
      inputs: ['1'],
      inputType: 'query',
      headers: { 'x-trace': 'on' },
      providerOptions: { scripted: { fast: true } },
    });
    const expected = {
      inputType: 'query',
      providerOptions: { scripted: { fast: true } },
      outputType: 'float',
    };
    expect(seen).toEqual([expected, expected]);
    expect(model.calls[0]!.request.headers).toEqual({ 'x-trace': 'on' });
  });

  it.each([[0], [1.5]])(
    'maxInputsPerCall %s is refused as a setting, not blamed on the model',
    async (value) => {
      const model = new ScriptedModel();
      await expect(embedMany({ model, inputs: ['1'], maxInputsPerCall: value })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        argument: 'maxInputsPerCall',
        message: `maxInputsPerCall must be a whole number ≥ 1, got ${value}.`,
      });
      expect(model.calls).toHaveLength(0);
    },
  );

  it('an answer without warnings counts as none; warnings that are not a list are refused', async () => {
    const quiet = new ScriptedModel({
      respond: (call) =>
        ({ embeddings: call.inputs.map(vectorFor), response: { status: 200, headers: {} } }) as never,
    });
    expect((await embedMany({ model: quiet, inputs: ['1'] })).warnings).toEqual([]);
    const odd = new ScriptedModel({
      respond: (call) =>
        ({
          embeddings: call.inputs.map(vectorFor),
          warnings: 'none',
          response: { status: 200, headers: {} },
        }) as never,
    });
    const error = await refusedAnswer(() => embedMany({ model: odd, inputs: ['1'], maxRetries: 0 }));
    expect(error.message).toBe('scripted returned warnings that are not a list.');
  });
});

describe('embedStream’s settings and read-ahead', () => {
  it.each([[-1], [2.5], [2_147_483_648]])(
    'flushAfterMs %s is refused before the source is read',
    async (value) => {
      const model = new ScriptedModel();
      const { iterable, state } = recordingIterable(['1']);
      await expect(
        collect(embedStream({ model, inputs: iterable, flushAfterMs: value })),
      ).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        argument: 'flushAfterMs',
        message: `flushAfterMs must be a whole number from 0 to 2,147,483,647, got ${value}.`,
      });
      expect(state.reads).toBe(0);
      expect(model.calls).toHaveLength(0);
    },
  );

  it('inputs null is refused as not iterable', async () => {
    const model = new ScriptedModel();
    await expect(collect(embedStream({ model, inputs: null as unknown as string[] }))).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'inputs',
      message: 'inputs must be an Iterable or AsyncIterable of inputs.',
    });
  });

  it('values for inputs is refused with a hint', async () => {
    const model = new ScriptedModel();
    const settings = { model, inputs: ['1'], values: ['1'] } as unknown as Parameters<typeof embedStream>[0];
    await expect(collect(embedStream(settings))).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      message: 'embedStream has no setting values: it takes its iterable of inputs as inputs.',
    });
  });

  it('starts at most 2 x concurrency calls ahead of the first result still awaited', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const model = new ScriptedModel({
      capabilities: { maxInputsPerCall: 1 },
      respond: async (call) => {
        if (call.inputs[0] === '0') await gate;
        return undefined;
      },
    });
    const run = collect(embedStream({ model, inputs: numberedInputs(20), concurrency: 2 }));
    await until(() => model.calls.length >= 4, 'four calls');
    for (let turn = 0; turn < 20; turn++) await tick();
    expect(model.callInputs).toEqual([['0'], ['1'], ['2'], ['3']]);
    release();
    const items = await run;
    expect(items.map((item) => item.index)).toEqual(numberedInputs(20).map(Number));
    expect(items.map((item) => item.embedding)).toEqual(numberedInputs(20).map(vectorFor));
  });
});
