/**
 * What the rerank, contextualized and batch-jobs groups tell the author of a provider that sends a
 * request's fields under other names, or in another shape, than its wire profile reads: the reader, what
 * it read and the body's fields, as the embeddings group tells of its inputs, rather than a TypeError of
 * the suite's own code, a count of zero scores, an API refusal of the suite's fake server or a diff of
 * undefined values.
 */
import type {
  ContextualizedEmbedRequest,
  CreateBatchJobOptions,
  EmbedInput,
  RerankRequest,
} from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import {
  AcmeBatchJobs,
  AcmeContextualizedModel,
  AcmeRerankingModel,
  acmeBatchWire,
  acmeContextualizedWire,
  acmeRerankingWire,
  createAcmeContextualizedModel,
  createAcmeRerankingModel,
} from '../mutants/reference-groups.js';
import { runScenarios } from '../src/describe.js';
import { listBatchEmbeddingJobsScenarioList } from '../src/groups/batch-jobs.js';
import {
  type ContextualizedWireProfile,
  listContextualizedScenarioList,
} from '../src/groups/contextualized/index.js';
import { listRerankingScenarioList, type RerankingWireProfile } from '../src/groups/rerank/index.js';
import type { CreateModelOptions } from '../src/types.js';

const base = { name: 'acme', baseURL: 'https://api.acme.test/v1' };

const firstLines = (outcomes: { passed: boolean; error?: unknown }[]) =>
  outcomes.map((outcome) =>
    outcome.passed ? 'passed' : String((outcome.error as Error).message).split('\n')[0]!,
  );
const withoutCatches = (line: string) => line.replace(/ \(this scenario catches: .+\)$/, '');

describe('a rerank request whose documents and query are not where the wire reads them', () => {
  /** Sends the documents as `docs` and the query as `q`, where the API (and the wire) reads `documents` and `query`. */
  class ShortNames extends AcmeRerankingModel {
    protected override body(request: RerankRequest) {
      const { documents, query, ...body } = super.body(request);
      return { ...body, docs: documents, q: query };
    }
  }
  /** Sends only the documents as `docs`. */
  class Docs extends AcmeRerankingModel {
    protected override body(request: RerankRequest) {
      const { documents, ...body } = super.body(request);
      return { ...body, docs: documents };
    }
  }
  const run = async (Model: typeof AcmeRerankingModel, wire: RerankingWireProfile, only: string[]) => {
    const { scenarios } = listRerankingScenarioList({
      ...base,
      modelId: 'acme-rerank-1',
      createModel: ({ modelId, ...settings }: CreateModelOptions) => new Model(modelId, settings as never),
      wire,
    });
    return firstLines(await runScenarios(scenarios, { only }));
  };
  // A wire written by hand, as an author writes one: it reads the fields, and nothing more.
  const handWritten: RerankingWireProfile = {
    ...acmeRerankingWire,
    queryOf: (body) => (body as { query: string }).query,
    documentsOf: (body) => (body as { documents: string[] }).documents,
  };

  it('names the query reader and the fields the body has, not a TypeError of the suite', async () => {
    const lines = await run(ShortNames, handWritten, ['rerank-sorted', 'rerank-error-5xx-retried']);
    expect(lines.map(withoutCatches)).toEqual(
      Array(4).fill(
        "the wire's queryOf read undefined from a request body, not a text: the provider sent its query under another field than the wire profile reads, or queryOf reads the wrong one (the body's fields: docs, model, q, return_documents, truncate)",
      ),
    );
  });

  it('names the documents reader where the wire reads them as none, not "acme returned 0 scores"', async () => {
    // The reference wire reads absent documents as an empty list: no call is sent without documents.
    const lines = await run(Docs, acmeRerankingWire, ['rerank-sorted']);
    expect(lines.map(withoutCatches)).toEqual(
      Array(2).fill(
        "the wire's documentsOf read an empty list from a request body, not a list of texts: the provider sent its documents under another field than the wire profile reads, or documentsOf reads the wrong one (the body's fields: docs, model, query, return_documents, truncate)",
      ),
    );
  });

  it('names the query reader where the wire reads a missing query as empty, not a ranking that differs', async () => {
    /** Sends only the query as `q`. */
    class Q extends AcmeRerankingModel {
      protected override body(request: RerankRequest) {
        const { query, ...body } = super.body(request);
        return { ...body, q: query };
      }
    }
    const lines = await run(Q, acmeRerankingWire, ['rerank-sorted']);
    expect(lines.map(withoutCatches)).toEqual(
      Array(2).fill(
        "the wire's queryOf read an empty string from a request body, not a text: the provider sent its query under another field than the wire profile reads, or queryOf reads the wrong one (the body's fields: documents, model, q, return_documents, truncate)",
      ),
    );
  });

  it('the same wires pass the provider that sends them there', async () => {
    for (const wire of [handWritten, acmeRerankingWire])
      expect(await run(AcmeRerankingModel, wire, ['rerank-sorted', 'rerank-error-5xx-retried'])).toEqual(
        Array(4).fill('passed'),
      );
  });
});

describe('a contextualized request whose chunks are sent flat', () => {
  /** Sends every chunk as an input of its own, where the API takes each document's chunks as one list. */
  class Flat extends AcmeContextualizedModel {
    protected override contextualizedBody(request: ContextualizedEmbedRequest) {
      return { ...super.contextualizedBody(request), inputs: request.documents.flat() };
    }
  }
  const run = async (Model: typeof AcmeContextualizedModel, wire: ContextualizedWireProfile) => {
    const { scenarios } = listContextualizedScenarioList({
      ...base,
      modelId: 'acme-context-1',
      createModel: ({ modelId, ...settings }: CreateModelOptions) => new Model(modelId, settings as never),
      wire,
    });
    return firstLines(
      await runScenarios(scenarios, { only: ['ctx-single-document', 'ctx-error-5xx-retried'] }),
    );
  };
  const handWritten: ContextualizedWireProfile = {
    ...acmeContextualizedWire,
    documentsOf: (body) => (body as { inputs: string[][] }).inputs,
  };

  it('says the chunks went flat, not that the API refused a call or that a document has no map', async () => {
    for (const wire of [handWritten, acmeContextualizedWire]) {
      const lines = (await run(Flat, wire)).map(withoutCatches);
      const flat = (first: string) =>
        `the wire's documentsOf read a list whose item 0 is ${first} from a request body, not a list of documents, each a list of chunk texts: the provider sent the chunks flat, each as a document of its own, where the API takes each document's chunks as one list, or the wire's reader flattens them (the body's fields: dimensions, encoding_format, inputs, model, truncate)`;
      expect(lines).toEqual([
        ...Array(2).fill(flat('a string of 39 characters')),
        ...Array(2).fill(flat('"pets and animals"')),
      ]);
    }
  });

  it('the same wires pass the provider that nests them', async () => {
    for (const wire of [handWritten, acmeContextualizedWire])
      expect(await run(AcmeContextualizedModel, wire)).toEqual(Array(4).fill('passed'));
  });
});

describe('a batch create whose items carry their text under another key', () => {
  /** Writes each item's text as `content`, where the API (and the wire) reads `text`. */
  class Content extends AcmeBatchJobs {
    protected override item(input: EmbedInput, options: CreateBatchJobOptions) {
      const { text, ...item } = super.item(input, options);
      return { ...item, content: text } as never;
    }
  }
  const run = async (Jobs: typeof AcmeBatchJobs) => {
    const { scenarios } = listBatchEmbeddingJobsScenarioList({
      ...base,
      modelId: 'acme-embed-1',
      createJobs: ({ modelId, ...settings }: CreateModelOptions) => new Jobs(modelId, settings as never),
      wire: acmeBatchWire,
    });
    return firstLines(await runScenarios(scenarios, { only: ['create'] }));
  };

  it('names the inputs reader and the body, not a diff of undefined texts', async () => {
    expect((await run(Content)).map(withoutCatches)).toEqual(
      Array(2).fill(
        "the wire's inputsOf read a list whose item 0 is undefined from a request body, not a list of texts: the provider sent its inputs under another field than the wire profile reads, or inputsOf reads the wrong one (the body's fields: model, requests)",
      ),
    );
  });

  it('the wire passes the provider that writes them under text', async () => {
    expect(await run(AcmeBatchJobs)).toEqual(['passed', 'passed']);
  });
});

describe('a rerank or contextualized request id header core does not read', () => {
  const unread = (group: string) =>
    new RegExp(
      `^the result keeps the request id the API sent in x-acme-trace \\(core reads x-request-id, request-id and x-goog-request-id; name another in the JsonEndpoint's requestIdHeaders\\) \\(this scenario catches: ${group}`,
    );

  it('fails rerank-sorted saying where a provider on core names the header', async () => {
    const { scenarios } = listRerankingScenarioList({
      ...base,
      modelId: 'acme-rerank-1',
      createModel: createAcmeRerankingModel,
      wire: { ...acmeRerankingWire, requestIdHeader: 'x-acme-trace' },
    });
    const lines = firstLines(await runScenarios(scenarios, { only: ['rerank-sorted'] }));
    expect(lines).toEqual(Array(2).fill(expect.stringMatching(unread('documents or query altered'))));
  });

  it('fails ctx-single-document saying the same', async () => {
    const { scenarios } = listContextualizedScenarioList({
      ...base,
      modelId: 'acme-context-1',
      createModel: createAcmeContextualizedModel,
      wire: { ...acmeContextualizedWire, requestIdHeader: 'x-acme-trace' },
    });
    const lines = firstLines(await runScenarios(scenarios, { only: ['ctx-single-document'] }));
    expect(lines).toEqual(Array(2).fill(expect.stringMatching(unread('chunks altered'))));
  });
});
