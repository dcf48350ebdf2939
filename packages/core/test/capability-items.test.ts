/**
 * What a model's capability lists hold, and the declared numbers and flags the engine reads, as a provider
 * written in plain JavaScript (or cast into shape) may give them: `inputTypes: ['query', 5]`, an output
 * type core does not know, `dimensions: [256, 0]`, `[1.5]`, `[NaN]`, a value twice, a `defaultDimensions`
 * of 0, a `supportsParallelCalls` of "no". Every kind of job refuses each before any request, naming the
 * field and its index and what it must hold. Before, the lists were checked only to be lists: each of
 * these jobs sent its request (a length of 0 was asked for, a default length of 0 or NaN failed only
 * after the answer was paid for, a listwise reranker's calls were split and merged).
 */
import { describe, expect, it } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { embed, embedMany, embedStream } from '../src/engine/embed.js';
import { checkEmbedRequest } from '../src/engine/settings.js';
import { InvalidArgumentError } from '../src/errors.js';
import { rerank } from '../src/rerank.js';
import { rejectionOf } from '../src/testing.js';
import { type EmbeddingCapabilities, INPUT_TYPES, MODALITIES, OUTPUT_TYPES } from '../src/types.js';
import { BASE_CAPABILITIES, contextualizedModel, ScriptedModel, ScriptedReranker } from './helpers.js';

const HOLDS = {
  inputTypes: 'a list of the input types it takes (such as "query"), each once, [] for none',
  outputTypes: 'a list of the vector types it returns (float, int8, uint8, binary, ubinary), each once',
  modalities: 'a list of what it embeds (text, image), each once',
  dimensions: 'a list of lengths, each once, or a range { min, max }, or absent when the length is fixed',
  defaultDimensions: 'a length, or absent',
};

/**
 * A bad declaration: the capabilities it changes, the field the refusal names (the list and the index of
 * its item), and what the refusal says it got.
 */
const BAD_ITEMS: [changes: Partial<Record<keyof typeof HOLDS, unknown>>, field: string, got: string][] = [
  [{ inputTypes: ['query', 5] }, 'inputTypes[1]', '5 at [1]'],
  [{ inputTypes: [''] }, 'inputTypes[0]', 'an empty string at [0]'],
  [{ inputTypes: [['query']] }, 'inputTypes[0]', 'an array at [0]'],
  [{ inputTypes: ['query', 'document', 'query'] }, 'inputTypes[2]', '"query" at [2]'],
  [{ outputTypes: ['float', 'fp16'] }, 'outputTypes[1]', '"fp16" at [1]'],
  [{ outputTypes: [null] }, 'outputTypes[0]', 'null at [0]'],
  [{ outputTypes: ['float', 'float'] }, 'outputTypes[1]', '"float" at [1]'],
  [{ modalities: ['text', 'audio'] }, 'modalities[1]', '"audio" at [1]'],
  [{ modalities: ['text', 'text'] }, 'modalities[1]', '"text" at [1]'],
  [{ dimensions: [256, 0] }, 'dimensions[1]', '0 at [1]'],
  [{ dimensions: [1.5] }, 'dimensions[0]', '1.5 at [0]'],
  [{ dimensions: [Number.NaN] }, 'dimensions[0]', 'NaN at [0]'],
  [{ dimensions: [2, '4'] }, 'dimensions[1]', '"4" at [1]'],
  [{ dimensions: [2, 4, 2] }, 'dimensions[2]', '2 at [2]'],
  [{ dimensions: { min: 0, max: 8 } }, 'dimensions', 'an object with min, max'],
  [{ dimensions: { min: Number.NaN, max: 8 } }, 'dimensions', 'an object with min, max'],
  [{ dimensions: { min: 8, max: 2 } }, 'dimensions', 'an object with min, max'],
  [{ dimensions: { min: 1, max: Number.POSITIVE_INFINITY } }, 'dimensions', 'an object with min, max'],
  [{ defaultDimensions: 0 }, 'defaultDimensions', '0'],
  [{ defaultDimensions: Number.NaN }, 'defaultDimensions', 'NaN'],
  [{ defaultDimensions: 1.5 }, 'defaultDimensions', '1.5'],
  [{ defaultDimensions: '2' }, 'defaultDimensions', '"2"'],
];

/** Every kind of job that takes an embedding model, run on a model with `changes`; what it sent. */
const JOBS: [name: string, run: (changes: Record<string, unknown>) => Promise<number>][] = [
  ['embed', async (changes) => sentBy((model) => embed({ model, input: 'a', inputType: 'query' }), changes)],
  ['embedMany', async (changes) => sentBy((model) => embedMany({ model, inputs: ['a', 'b'] }), changes)],
  [
    'embedStream',
    async (changes) =>
      sentBy(async (model) => {
        for await (const _ of embedStream({ model, inputs: ['a', 'b'] })) {
          // each result is dropped: only the refusal and the calls count
        }
      }, changes),
  ],
  [
    'embedContextualized',
    async (changes) => {
      const { model, sent } = contextualizedModel();
      const capabilities = { ...BASE_CAPABILITIES, ...changes } as EmbeddingCapabilities;
      try {
        await embedContextualized({ model: { ...model, capabilities }, documents: [['a', 'b']] });
      } finally {
        // A refusal must come before any call: `sent` is read whatever the job did.
        expect(sent).toEqual([]);
      }
      return sent.length;
    },
  ],
  [
    'checkEmbedRequest',
    async (changes) =>
      sentBy(async (model) => checkEmbedRequest(model, { inputs: ['a'], inputType: 'query' }), changes),
  ],
];

/** Runs `job` on a scripted model with `changes`, asserting that it made no call, even when it fails. */
async function sentBy(job: (model: ScriptedModel) => Promise<unknown>, changes: Record<string, unknown>) {
  const model = new ScriptedModel({ capabilities: changes as Partial<EmbeddingCapabilities> });
  try {
    await job(model);
  } finally {
    expect(model.calls).toEqual([]);
  }
  return model.calls.length;
}

describe('the items of a model’s capability lists, and its declared length', () => {
  describe.each(JOBS)('%s', (_name, run) => {
    it.each(BAD_ITEMS)('refuses %o before any call, naming %s', async (changes, field, got) => {
      const error = await rejectionOf(run(changes));
      const name = Object.keys(changes)[0] as keyof typeof HOLDS;
      const label = _name === 'embedContextualized' ? 'ctx model ctx-1' : 'scripted model scripted-1';
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        message: `${label}'s capabilities.${name} must be ${HOLDS[name]}; got ${got}.`,
        argument: `model.capabilities.${field}`,
      });
    });
  });

  it('the known names are the lists the types are made of', () => {
    expect(OUTPUT_TYPES).toEqual(['float', 'int8', 'uint8', 'binary', 'ubinary']);
    expect(MODALITIES).toEqual(['text', 'image']);
  });

  it('takes every known name, an input type of the model’s own, lengths as a list or a range, and no default length', async () => {
    const model = new ScriptedModel({
      capabilities: {
        inputTypes: [...INPUT_TYPES, 'code' as never],
        outputTypes: OUTPUT_TYPES,
        modalities: MODALITIES,
        dimensions: [2, 8, 1536],
        defaultDimensions: undefined,
      },
    });
    const result = await embedMany({ model, inputs: ['a'], inputType: 'code-query', dimensions: 2 });
    expect(result.embeddings).toHaveLength(1);
    const ranged = new ScriptedModel({ capabilities: { dimensions: { min: 2, max: 2 } } });
    await embed({ model: ranged, input: 'a', dimensions: 2 });
    expect([model.calls.length, ranged.calls.length]).toEqual([1, 1]);
  });
});

describe('the flags every job reads', () => {
  it.each([
    ['embed', (model: ScriptedModel) => embed({ model, input: 'a' })],
    ['embedMany', (model: ScriptedModel) => embedMany({ model, inputs: ['a'] })],
  ] as const)('%s refuses a supportsParallelCalls that is not true or false', async (_name, job) => {
    const model = new ScriptedModel({
      capabilities: { supportsParallelCalls: 'false' as unknown as boolean },
    });
    const error = await rejectionOf(job(model));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      message: 'model.capabilities.supportsParallelCalls must be true or false, got "false".',
      argument: 'model.capabilities.supportsParallelCalls',
    });
    expect(model.calls).toEqual([]);
  });

  it('embedContextualized refuses it too, before any call', async () => {
    const { model, sent } = contextualizedModel();
    const capabilities = {
      ...BASE_CAPABILITIES,
      supportsParallelCalls: 1,
    } as unknown as EmbeddingCapabilities;
    const error = await rejectionOf(
      embedContextualized({ model: { ...model, capabilities }, documents: [['a']] }),
    );
    expect(error).toMatchObject({
      message: 'model.capabilities.supportsParallelCalls must be true or false, got 1.',
      argument: 'model.capabilities.supportsParallelCalls',
    });
    expect(sent).toEqual([]);
  });

  it.each([
    [
      'supportsParallelCalls',
      'no',
      'model.capabilities.supportsParallelCalls must be true or false, got "no".',
    ],
    [
      'scoresCompareAcrossCalls',
      'false',
      'model.capabilities.scoresCompareAcrossCalls must be true or false, got "false".',
    ],
    [
      'scoresCompareAcrossCalls',
      0,
      'model.capabilities.scoresCompareAcrossCalls must be true or false, got 0.',
    ],
  ])('rerank refuses %s of %o before any call', async (field, value, message) => {
    // Two documents of one a call: a listwise model's job would be split, and its scores merged.
    const model = new ScriptedReranker({ maxDocumentsPerCall: 1, [field]: value });
    const error = await rejectionOf(rerank({ model, query: 'q', documents: ['1 a', '2 b'] }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ message, argument: `model.capabilities.${field}` });
    expect(model.calls).toEqual([]);
  });

  it('rerank takes the flags true, false or absent as before', async () => {
    for (const scoresCompareAcrossCalls of [true, undefined]) {
      const model = new ScriptedReranker({
        maxDocumentsPerCall: 1,
        supportsParallelCalls: false,
        scoresCompareAcrossCalls,
      });
      const { results } = await rerank({ model, query: 'q', documents: ['1 a', '2 b'] });
      expect(results.map((result) => result.index)).toEqual([1, 0]);
      expect(model.calls).toHaveLength(2);
    }
  });
});
