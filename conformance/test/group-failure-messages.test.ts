/**
 * What a failing contextualized or batch-jobs scenario says: the mistake the provider made, named, rather
 * than the provider's own error or a request the scenario does not answer.
 */
import type { BatchJobCallOptions, BatchJobOperation } from '@embedkit/core/provider';
import { describe, expect, it } from 'vitest';
import { AcmeBatchJobs } from '../mutants/reference-groups.js';
import { runScenarios } from '../src/describe.js';
import type { CreateModelOptions } from '../src/types.js';
import { failureMessages as failures, GROUPS } from './mutant-suites.js';

describe('a contextualized answer listing documents out of order', () => {
  it('names the document whose vectors a place holds when the provider ignores each document index', async () => {
    const messages = await failures('ctx-ignores-document-index', [
      'ctx-documents-in-order',
      'tiny-batches/ctx-documents-in-order',
    ]);
    expect(messages.map((text) => text.replace(/ \(this scenario catches: .+\)$/, ''))).toEqual([
      "ctx-documents-in-order [undici]: documents out of order: document 0 holds document 3's vectors",
      "ctx-documents-in-order [fetch]: documents out of order: document 0 holds document 3's vectors",
      "tiny-batches/ctx-documents-in-order [undici]: documents out of order: document 0 holds document 1's vectors",
      "tiny-batches/ctx-documents-in-order [fetch]: documents out of order: document 0 holds document 1's vectors",
    ]);
  });
});

describe('a contextualized call without the dimensions asked', () => {
  it('fails ctx-dimensions-honoured through both transports', async () => {
    const messages = await failures('ctx-drops-dimensions', ['ctx-dimensions-honoured']);
    expect(messages).toEqual([
      'ctx-dimensions-honoured [undici]: acme returned chunk 0 of document 0 with 32 values; expected 8 for dimensions 8. (this scenario catches: dimensions dropped on some call)',
      'ctx-dimensions-honoured [fetch]: acme returned chunk 0 of document 0 with 32 values; expected 8 for dimensions 8. (this scenario catches: dimensions dropped on some call)',
    ]);
  });
});

describe('a contextualized provider that drops the dimensions option', () => {
  const dropped = (id: string, kind: string) =>
    `${id} [${kind}]: acme returned chunk 0 of document 0 with 32 values; expected 16 for dimensions 16. No request carried dimensions (as the wire's dimensionsOf reads them) though the job asked 16: the provider drops the dimensions option, so the API answered its default length. (this scenario catches: the dimensions option dropped, so the API answers its default length)`;

  it('is told so by a generic scenario and by a shared family, as the embeddings group tells it', async () => {
    const messages = await failures('ctx-drops-dimensions', ['ctx-single-document', 'ctx-error-5xx-retried']);
    expect(messages).toEqual([
      dropped('ctx-single-document', 'undici'),
      dropped('ctx-single-document', 'fetch'),
      dropped('ctx-error-5xx-retried', 'undici'),
      dropped('ctx-error-5xx-retried', 'fetch'),
    ]);
  });
});

describe('batch jobs', () => {
  it('an item without the settings asked names every field it lacks', async () => {
    const messages = await failures('batch-first-item-settings', ['create-every-item']);
    expect(messages.map((text) => text.replace(/ \(this scenario catches: .+\)$/, ''))).toEqual(
      ['undici', 'fetch'].map(
        (kind) =>
          `create-every-item [${kind}]: item 1: the input type: expected "document", sent (absent); the dimensions: expected 16, sent (absent); 2 more items differ`,
      ),
    );
  });

  it('a provider that drops the dimensions option is told so, as the other groups tell it', async () => {
    const dropped =
      "no request carried dimensions (as the wire's itemsOf reads them) though the job asked 16: the provider drops the dimensions option";
    const caught = '(this scenario catches: the dimensions option dropped)';
    const messages = await failures('batch-drops-dimensions', ['create', 'create-every-item']);
    expect(messages).toEqual([
      `create [undici]: dimensions sent as asked; ${dropped} ${caught}\n\nundefined !== 16\n`,
      `create [fetch]: dimensions sent as asked; ${dropped} ${caught}\n\nundefined !== 16\n`,
      `create-every-item [undici]: item 0: the dimensions: expected 16, sent (absent); 3 more items differ; ${dropped} ${caught}`,
      `create-every-item [fetch]: item 0: the dimensions: expected 16, sent (absent); 3 more items differ; ${dropped} ${caught}`,
    ]);
  });

  it('a wait that polls on after the API answered a final state says so, not that a request was unexpected', async () => {
    const messages = await failures('batch-misspelled-state', ['wait-ends-cancelled']);
    for (const text of messages)
      expect(text).toMatch(
        /^wait-ends-cancelled \[(undici|fetch)\]: wait\(\) went on polling a job the API had answered cancelled, as if it were still running: the provider misreads the API's word for a cancelled job \(this scenario catches: /,
      );
  });

  it("a job request that outlives the caller's timeoutMs is named by its operation", async () => {
    const messages = await failures('batch-drops-timeout', ['call-timeout']);
    for (const text of messages)
      expect(text).toMatch(
        /^call-timeout \[(undici|fetch)\]: create with timeoutMs: 20 read an answer held back past its timeout: the provider does not hand the caller's timeoutMs to its request \(this scenario catches: /,
      );
  });

  it("a job request the caller's abort does not end is named by its operation", async () => {
    const messages = await failures('batch-drops-signal', ['call-abort']);
    for (const text of messages)
      expect(text).toMatch(
        /^call-abort \[(undici|fetch)\]: create aborted while its answer was held back read the answer once it came: the provider does not hand the caller's signal to its request \(this scenario catches: /,
      );
  });

  it('the reference hands timeoutMs and signal to every job request, each ending in time', async () => {
    const { scenarios } = GROUPS['batch-jobs'].list(GROUPS['batch-jobs'].reference);
    const outcomes = await runScenarios(scenarios, { only: ['call-timeout', 'call-abort'] });
    expect(outcomes.map((outcome) => [outcome.id, outcome.kind, outcome.passed])).toEqual([
      ['call-timeout', 'undici', true],
      ['call-timeout', 'fetch', true],
      ['call-abort', 'undici', true],
      ['call-abort', 'fetch', true],
    ]);
  });
});

/** Acme batch jobs that send a create request's items under another name than the one the wire reads. */
class RenamedItemsBatchJobs extends AcmeBatchJobs {
  protected override call(
    operation: BatchJobOperation,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    options?: BatchJobCallOptions,
  ) {
    if (operation !== 'create') return super.call(operation, method, path, body, options);
    const { requests, ...rest } = body as { requests: unknown[] };
    return super.call(operation, method, path, { ...rest, items: requests }, options);
  }
}

describe('a batch create request the wire profile cannot read item by item', () => {
  it("fails create with the scenario's own finding, not with the dropped-dimensions note's reading error", async () => {
    const { scenarios } = GROUPS['batch-jobs'].list(
      ({ modelId, ...settings }: CreateModelOptions) => new RenamedItemsBatchJobs(modelId, settings),
    );
    const outcomes = await runScenarios(scenarios, { only: ['create'] });
    expect(outcomes.map((outcome) => [outcome.kind, outcome.passed])).toEqual([
      ['undici', false],
      ['fetch', false],
    ]);
    for (const outcome of outcomes) {
      const message = (outcome.error as Error).message;
      expect(message).toMatch(
        /^the wire's inputsOf read an empty list from a request body, not a list of texts: the provider sent its inputs under another field than the wire profile reads, or inputsOf reads the wrong one \(the body's fields: items, model\) \(this scenario catches: /,
      );
      expect(message).not.toContain('dimensions option');
    }
  });
});

describe('a listwise reranker that does not say so', () => {
  it('is told what the wire profile says and what its capabilities leave out, in both modes', async () => {
    const messages = await failures('rerank-listwise-undeclared', [
      'rerank-listwise-split-refused',
      'tiny-batches/rerank-listwise-split-refused',
    ]);
    const told =
      "the API is listwise (the wire profile's listwise: true), but the model's capabilities leave out scoresCompareAcrossCalls: rerank then splits its jobs and merges them by scores that do not compare across calls. Declare scoresCompareAcrossCalls: false.";
    expect(messages.map((text) => text.replace(/ \(this scenario catches: .+\)$/, ''))).toEqual([
      `rerank-listwise-split-refused [undici]: ${told}`,
      `rerank-listwise-split-refused [fetch]: ${told}`,
      `tiny-batches/rerank-listwise-split-refused [undici]: ${told}`,
      `tiny-batches/rerank-listwise-split-refused [fetch]: ${told}`,
    ]);
  });
});
