/**
 * A field the suite does not know is refused when the suite is set up, before any test runs. Before, a
 * misspelt or misplaced field (`maxTokensPerinput`, `cassette`, a wire field on the options) was dropped
 * without a word: the checks it switches on did not run, and the suite passed with fewer checks than
 * the provider declared. Each test below fails without the check it names.
 */
import { describe, expect, it } from 'vitest';
import {
  acmeBatchWire,
  acmeContextualizedWire,
  acmeRerankingWire,
  createAcmeBatchJobs,
  createAcmeContextualizedModel,
  createAcmeRerankingModel,
} from '../mutants/reference-groups.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { describeEmbeddingProvider, runConformance, runScenarios } from '../src/describe.js';
import {
  describeBatchEmbeddingJobs,
  listBatchEmbeddingJobsScenarioList,
  listBatchEmbeddingJobsScenarios,
} from '../src/groups/batch-jobs.js';
import {
  describeContextualizedProvider,
  listContextualizedScenarioList,
  listContextualizedScenarios,
} from '../src/groups/contextualized/index.js';
import {
  describeRerankingProvider,
  listRerankingScenarioList,
  listRerankingScenarios,
} from '../src/groups/rerank/index.js';
import { listEmbeddingScenarios, listScenarios } from '../src/scenarios.js';
import type { DescribeEmbeddingProviderOptions, WireProfile } from '../src/types.js';
import { openAICompatibleWire } from '../src/wires/openai-compatible.js';

/** An `InvalidArgumentError` refusing `argument` with exactly `message`. */
const refusal = (message: string, argument: string) =>
  expect.objectContaining({ name: 'InvalidArgumentError', message, argument });

/** Asserts `run` throws the refusal of `argument` with exactly `message`. */
function expectRefused(run: () => unknown, message: string, argument: string): void {
  expect(run).toThrow(refusal(message, argument));
}

/** Fields a TypeScript caller could not write, as a JavaScript caller (or a spread object) can. */
function loose<T>(value: T, extra: object): T {
  return { ...value, ...extra } as T;
}

const base = { name: 'acme', baseURL: 'https://api.acme.test/v1' };
const userOption = {
  name: 'user',
  options: { user: 'user-1234' },
  onWire: (body: unknown) => (body as { user?: string }).user,
  expected: 'user-1234',
};
const embeddings: DescribeEmbeddingProviderOptions = {
  ...base,
  modelId: 'acme-embed-1',
  createModel: createAcmeModel,
  wire: acmeWire,
};
const withWire = (extra: object): DescribeEmbeddingProviderOptions => ({
  ...embeddings,
  wire: loose(acmeWire, extra),
});

describe('describeEmbeddingProvider refuses what it does not know', () => {
  const cases: [string, DescribeEmbeddingProviderOptions, string, string][] = [
    [
      'a misspelt wire field',
      withWire({ maxTokensPerinput: 8192 }),
      'describeEmbeddingProvider wire has no field maxTokensPerinput; did you mean maxTokensPerInput?',
      'maxTokensPerinput',
    ],
    [
      'a misspelt option',
      loose(embeddings, { cassette: './cassettes' }),
      'describeEmbeddingProvider has no option cassette; did you mean cassettes?',
      'cassette',
    ],
    [
      'expectedFailure for expectedFailures',
      loose(embeddings, { expectedFailure: { single: 'a reason' } }),
      'describeEmbeddingProvider has no option expectedFailure; did you mean expectedFailures?',
      'expectedFailure',
    ],
    [
      'a wire field put on the options',
      loose(embeddings, { maxTokensPerInput: 8192 }),
      'describeEmbeddingProvider has no option maxTokensPerInput: it is a field of wire.',
      'maxTokensPerInput',
    ],
    [
      'an option put on the wire',
      withWire({ cassettes: './cassettes' }),
      'describeEmbeddingProvider wire has no field cassettes: it is an option of describeEmbeddingProvider.',
      'cassettes',
    ],
    [
      'vectorLength for vectorLengths',
      withWire({ vectorLength: { default: 16 } }),
      'describeEmbeddingProvider wire has no field vectorLength; did you mean vectorLengths?',
      'vectorLength',
    ],
    [
      'requestIDHeader for requestIdHeader',
      withWire({ requestIDHeader: 'x-request-id' }),
      'describeEmbeddingProvider wire has no field requestIDHeader; did you mean requestIdHeader?',
      'requestIDHeader',
    ],
    [
      'a signal put on the wire itself',
      withWire({ quotaExhausted: true }),
      'describeEmbeddingProvider wire has no field quotaExhausted: it is a field of wire.signals.',
      'quotaExhausted',
    ],
    [
      'a misspelt signal',
      withWire({ signals: { quotaExhaustd: true } }),
      'describeEmbeddingProvider wire.signals has no field quotaExhaustd; did you mean quotaExhausted?',
      'quotaExhaustd',
    ],
    [
      'a misspelt wait form',
      withWire({ waits: { header: ['retry-after'] } }),
      'describeEmbeddingProvider wire.waits has no field header; did you mean headers?',
      'header',
    ],
    [
      'expect for expected in an option example',
      withWire({ options: [userOption, { name: 'dims', options: {}, expect: 8 }] }),
      'describeEmbeddingProvider wire.options[1] has no field expect; did you mean expected?',
      'expect',
    ],
    [
      'a misspelt title field',
      withWire({ titles: { inputtype: 'document' } }),
      'describeEmbeddingProvider wire.titles has no field inputtype; did you mean inputType?',
      'inputtype',
    ],
    [
      'a misspelt length range',
      withWire({ vectorLengths: { default: 16, allowed: { min: 8, Max: 32 } } }),
      'describeEmbeddingProvider wire.vectorLengths.allowed has no field Max; did you mean max?',
      'Max',
    ],
    [
      'a misspelt encoding swap',
      withWire({ encodingSwap: { ...acmeWire.encodingSwap, feild: 'encoding_format' } }),
      'describeEmbeddingProvider wire.encodingSwap has no field feild; did you mean field?',
      'feild',
    ],
    [
      'a name like none',
      loose(embeddings, { transport: 'undici' }),
      'describeEmbeddingProvider has no option transport. It takes name, baseURL, modelId, wire, cassettes, expectedFailures, createModel, additionalTests, rerunWithTinyBatches, recordApiKeyEnvironmentVariable.',
      'transport',
    ],
  ];

  it.each(cases)('%s', (_, options, message, argument) => {
    expectRefused(() => describeEmbeddingProvider(options), message, argument);
  });

  it('runConformance, listEmbeddingScenarios and listScenarios refuse the same, under their own names', async () => {
    await expect(runConformance(withWire({ maxTokensPerinput: 8192 }), { only: [] })).rejects.toThrow(
      refusal(
        'runConformance wire has no field maxTokensPerinput; did you mean maxTokensPerInput?',
        'maxTokensPerinput',
      ),
    );
    expectRefused(
      () => listEmbeddingScenarios(loose(embeddings, { cassette: [] })),
      'listEmbeddingScenarios has no option cassette; did you mean cassettes?',
      'cassette',
    );
    expectRefused(
      () => listScenarios(withWire({ signals: { batchTooLage: true } })),
      'listScenarios wire.signals has no field batchTooLage; did you mean batchTooLarge?',
      'batchTooLage',
    );
  });

  it('runConformance and runScenarios refuse a misspelt filter (which would run every scenario instead of the ones named)', async () => {
    await expect(runConformance(embeddings, loose({}, { onyl: ['single'] }))).rejects.toThrow(
      refusal('runConformance filter has no option onyl; did you mean only?', 'onyl'),
    );
    await expect(runScenarios([], loose({}, { kind: ['fetch'] }))).rejects.toThrow(
      refusal('runScenarios filter has no option kind; did you mean kinds?', 'kind'),
    );
  });

  it('a field written out as undefined is no field (as a conditional spread writes it)', () => {
    expect(() =>
      listEmbeddingScenarios(
        loose(embeddings, { cassette: undefined, wire: loose(acmeWire, { modelof: undefined }) }),
      ),
    ).not.toThrow();
  });
});

describe('the group describe functions refuse what they do not know', () => {
  const rerankOptions = {
    ...base,
    modelId: 'acme-rerank-1',
    createModel: createAcmeRerankingModel,
    wire: acmeRerankingWire,
  };
  const contextualizedOptions = {
    ...base,
    modelId: 'acme-context-1',
    createModel: createAcmeContextualizedModel,
    wire: acmeContextualizedWire,
  };
  const batchOptions = {
    ...base,
    modelId: 'acme-embed-1',
    createJobs: createAcmeBatchJobs,
    wire: acmeBatchWire,
    dimensions: 16,
  };

  it('describeRerankingProvider: options, wire, signals and option examples', () => {
    expectRefused(
      () => describeRerankingProvider(loose(rerankOptions, { expectedFailure: {} })),
      'describeRerankingProvider has no option expectedFailure; did you mean expectedFailures?',
      'expectedFailure',
    );
    expectRefused(
      () =>
        describeRerankingProvider({
          ...rerankOptions,
          wire: loose(acmeRerankingWire, { maxDocumentsPerRequst: 100 }),
        }),
      'describeRerankingProvider wire has no field maxDocumentsPerRequst; did you mean maxDocumentsPerRequest?',
      'maxDocumentsPerRequst',
    );
    expectRefused(
      () => describeRerankingProvider(loose(rerankOptions, { maxDocumentsPerRequest: 100 })),
      'describeRerankingProvider has no option maxDocumentsPerRequest: it is a field of wire.',
      'maxDocumentsPerRequest',
    );
    expectRefused(
      () =>
        describeRerankingProvider({
          ...rerankOptions,
          wire: loose(acmeRerankingWire, { signals: { batchTooLarge: true, quotaExhaustd: true } }),
        }),
      'describeRerankingProvider wire.signals has no field quotaExhaustd; did you mean quotaExhausted?',
      'quotaExhaustd',
    );
    expectRefused(
      () =>
        describeRerankingProvider({
          ...rerankOptions,
          wire: loose(acmeRerankingWire, { options: [{ ...userOption, expected: undefined, expect: 'x' }] }),
        }),
      'describeRerankingProvider wire.options[0] has no field expect; did you mean expected?',
      'expect',
    );
    expectRefused(
      () => listRerankingScenarioList(loose(rerankOptions, { rerunWithTinyBatch: false })),
      'listRerankingScenarioList has no option rerunWithTinyBatch; did you mean rerunWithTinyBatches?',
      'rerunWithTinyBatch',
    );
    expectRefused(
      () => listRerankingScenarios(loose(rerankOptions, { cassette: [] })),
      'listRerankingScenarios has no option cassette; did you mean cassettes?',
      'cassette',
    );
  });

  it('describeContextualizedProvider: options, wire and waits', () => {
    expectRefused(
      () => describeContextualizedProvider(loose(contextualizedOptions, { cassette: [] })),
      'describeContextualizedProvider has no option cassette; did you mean cassettes?',
      'cassette',
    );
    expectRefused(
      () =>
        describeContextualizedProvider({
          ...contextualizedOptions,
          wire: loose(acmeContextualizedWire, { maxChunksPerRequests: 1000 }),
        }),
      'describeContextualizedProvider wire has no field maxChunksPerRequests; did you mean maxChunksPerRequest?',
      'maxChunksPerRequests',
    );
    expectRefused(
      () =>
        describeContextualizedProvider({
          ...contextualizedOptions,
          wire: loose(acmeContextualizedWire, { waits: { messagebody: () => ({}) } }),
        }),
      'describeContextualizedProvider wire.waits has no field messagebody; did you mean messageBody?',
      'messagebody',
    );
    expectRefused(
      () => listContextualizedScenarioList(loose(contextualizedOptions, { maxChunksPerRequest: 1000 })),
      'listContextualizedScenarioList has no option maxChunksPerRequest: it is a field of wire.',
      'maxChunksPerRequest',
    );
    expectRefused(
      () =>
        listContextualizedScenarios({
          ...contextualizedOptions,
          wire: loose(acmeContextualizedWire, { truncatOf: () => false }),
        }),
      'listContextualizedScenarios wire has no field truncatOf; did you mean truncateOf?',
      'truncatOf',
    );
  });

  it('describeBatchEmbeddingJobs: options, wire, titles and waits', () => {
    expectRefused(
      () => describeBatchEmbeddingJobs(loose(batchOptions, { dimension: 16 })),
      'describeBatchEmbeddingJobs has no option dimension; did you mean dimensions?',
      'dimension',
    );
    expectRefused(
      () =>
        describeBatchEmbeddingJobs({
          ...batchOptions,
          wire: loose(acmeBatchWire, { resultExchange: () => [] }),
        }),
      'describeBatchEmbeddingJobs wire has no field resultExchange; did you mean resultExchanges?',
      'resultExchange',
    );
    expectRefused(
      () =>
        describeBatchEmbeddingJobs({
          ...batchOptions,
          wire: loose(acmeBatchWire, { titles: { inputtype: 'document' } }),
        }),
      'describeBatchEmbeddingJobs wire.titles has no field inputtype; did you mean inputType?',
      'inputtype',
    );
    expectRefused(
      () =>
        listBatchEmbeddingJobsScenarioList({
          ...batchOptions,
          wire: loose(acmeBatchWire, { waits: { headers: [], structuredbody: () => ({}) } }),
        }),
      'listBatchEmbeddingJobsScenarioList wire.waits has no field structuredbody; did you mean structuredBody?',
      'structuredbody',
    );
    expectRefused(
      () => listBatchEmbeddingJobsScenarios(loose(batchOptions, { jobId: 'batch-1' })),
      'listBatchEmbeddingJobsScenarios has no option jobId: it is a field of wire.',
      'jobId',
    );
  });

  it('the reference wires of every group pass', () => {
    expect(() => listRerankingScenarioList(rerankOptions)).not.toThrow();
    expect(() => listContextualizedScenarioList(contextualizedOptions)).not.toThrow();
    expect(() => listBatchEmbeddingJobsScenarioList(batchOptions)).not.toThrow();
  });
});

describe('openAICompatibleWire refuses what it does not take', () => {
  it.each([
    [
      { path: '/v1/embeddings', maxTokensPerinput: 8192 },
      'openAICompatibleWire has no option maxTokensPerinput; did you mean maxTokensPerInput?',
      'maxTokensPerinput',
    ],
    [
      { path: '/v1/embeddings', signals: { quotaExhausted: false } },
      'openAICompatibleWire has no option signals: it is a field of the wire; set it on the wire this returns: { ...openAICompatibleWire(…), signals }.',
      'signals',
    ],
    [
      { path: '/v1/embeddings', cassettes: './cassettes' },
      'openAICompatibleWire has no option cassettes: it is an option of describeEmbeddingProvider, beside wire.',
      'cassettes',
    ],
    [
      { path: '/v1/embeddings', options: [{ ...userOption, expected: undefined, expect: 'user-1234' }] },
      'openAICompatibleWire options[0] has no field expect; did you mean expected?',
      'expect',
    ],
    [
      { path: '/v1/embeddings', vectorLengths: { defualt: 1536 } },
      'openAICompatibleWire vectorLengths has no field defualt; did you mean default?',
      'defualt',
    ],
  ])('%o', (options, message, argument) => {
    expectRefused(() => openAICompatibleWire(options as never), message, argument);
  });

  it('every field it takes passes, and the wire it builds passes describeEmbeddingProvider’s check', () => {
    // Every option, as the providers' own suites give them.
    const wire: WireProfile = openAICompatibleWire({
      path: '/v1/embeddings',
      query: 'api-version=1',
      maxInputsPerRequest: 2048,
      maxTokensPerRequest: 300_000,
      maxTokensPerInput: 8192,
      vectorLengths: { default: 1536, allowed: { min: 1, max: 1536 } },
      requestIdHeader: 'x-request-id',
      requestFields: ['input_type'],
      options: [userOption, { name: 'normalize', options: { normalize: true }, vectors: 'unit-length' }],
    });
    expect(() => listEmbeddingScenarios({ ...embeddings, wire })).not.toThrow();
    expect(() =>
      listEmbeddingScenarios({ ...embeddings, wire: openAICompatibleWire({ path: '/v1/embeddings' }) }),
    ).not.toThrow();
    expect(() => listEmbeddingScenarios(embeddings)).not.toThrow();
  });
});
