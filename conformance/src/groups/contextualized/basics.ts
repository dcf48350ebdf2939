/** Contextualized basics: documents and chunks in order however the API lists them, empty input, usage and its absence. */
import { strict as assert } from 'node:assert';
import { type EmbedContextualizedSettings, embedContextualized } from '@embedkit/core';
import {
  CALL_HEADERS,
  expectCallHeadersNotKept,
  expectCustomHeaders,
  expectKeyInAuthHeader,
  expectRequestIdsKept,
  PROVIDER_HEADERS,
  rejection,
  untidied,
} from '../../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../../suite/family.js';
import { type ContextualizedSuite, type ContextualizedWorld, CTX_REQUEST_ID } from './suite.js';

const reversed = (count: number) => Array.from({ length: count }, (_, index) => count - 1 - index);

/** Refused with an InvalidArgumentError naming `argument`, before any request. */
export async function nothingSent(
  suite: ContextualizedSuite,
  world: ContextualizedWorld,
  extra: Partial<EmbedContextualizedSettings>,
  argument: string,
): Promise<void> {
  const error = await rejection(embedContextualized(suite.settings(world, extra)));
  assert.equal(error.name, 'InvalidArgumentError', String(error.message));
  assert.equal(error.code, 'invalid_argument');
  assert.equal(error.argument, argument);
  assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
}

export const contextualizedBasics: Family<ContextualizedSuite, ContextualizedWorld> = {
  name: 'ctx-basics',
  checks:
    'one document, documents and chunks listed out of order, custom headers, empty documents and chunks refused, usage, an answer without usage',
  splits: true,
  cases: (suite) => {
    const { wire } = suite;
    const cases: (Case<ContextualizedWorld> | SkippedCase)[] = [
      check(
        'ctx-single-document',
        'chunks altered, the key in the wrong header, usage or the request id lost',
        async (world) => {
          const documents = suite.documents([3], 'single');
          world.respond(1, suite.success());
          const result = await embedContextualized(suite.settings(world, { documents }));
          suite.expectVectors(result, documents);
          const request = world.interceptor.requests[0]!;
          const auth = wire.authHeader(world.apiKey);
          expectKeyInAuthHeader(request.headers, auth);
          assert.deepEqual(wire.documentsOf(request.body), documents, 'the chunks are sent as given');
          if (wire.reportsUsage)
            assert.deepEqual(result.usage, { inputTokens: suite.usageTokens(documents) });
          else assert.equal(result.usage, undefined, 'usage is absent when the API reports none');
          assert.equal(result.responses.length, 1);
          expectRequestIdsKept(result.responses, wire.requestIdHeader, CTX_REQUEST_ID);
        },
      ),
      check(
        'ctx-chunks-as-given',
        'chunks trimmed, or their newlines, tabs or CRLF replaced, before they are sent',
        async (world) => {
          const documents = suite
            .documents([3], 'as given')
            .map((document) => document.map((chunk, index) => untidied(chunk, index)));
          world.respond(1, suite.success());
          const result = await embedContextualized(suite.settings(world, { documents }));
          assert.deepEqual(
            world.interceptor.requests.flatMap((request) => wire.documentsOf(request.body)),
            documents,
            'the chunks are sent byte for byte',
          );
          suite.expectVectors(result, documents);
        },
      ),
      check(
        'ctx-chunks-shuffled',
        "a document's chunk vectors kept in arrival order instead of placed by index",
        async (world) => {
          const documents = suite.documents(suite.cap >= 2 ? [4, 3] : [4], 'chunk order');
          suite.respondAll(world, documents, suite.success({ chunkOrder: reversed }));
          const result = await embedContextualized(suite.settings(world, { documents }));
          suite.expectVectors(result, documents);
        },
      ),
      check(
        'ctx-custom-headers',
        "the provider's `headers` setting or a call's own headers left off contextualized calls, or a call's headers kept for the calls after it",
        async (world) => {
          const documents = suite.documents([2], 'headers');
          world.respond(1, suite.success(), { times: 2 });
          const result = await embedContextualized({
            ...suite.settings(world, { documents }),
            headers: CALL_HEADERS,
          });
          suite.expectVectors(result, documents);
          expectCustomHeaders(world.interceptor.requests[0]!.headers, 'the contextualized request');
          await embedContextualized(suite.settings(world, { documents: suite.documents([1], 'no headers') }));
          expectCallHeadersNotKept(
            world.interceptor.requests[1]!.headers,
            'the second contextualized request',
          );
        },
        { headers: PROVIDER_HEADERS },
      ),
      check('ctx-no-documents', 'a call made for an empty job', async (world) => {
        const result = await embedContextualized(suite.settings(world, { documents: [] }));
        assert.deepEqual(result.embeddings, []);
        assert.equal(result.usage, undefined);
        assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
      }),
      check('ctx-empty-document', 'an empty document sent to the API', (world) =>
        nothingSent(suite, world, { documents: [['a'], []] }, 'documents[1]'),
      ),
      check('ctx-empty-chunk', 'an empty chunk sent to the API', (world) =>
        nothingSent(suite, world, { documents: [['a', '']] }, 'documents[0][1]'),
      ),
    ];
    cases.push(
      suite.cap >= 2
        ? check(
            'ctx-documents-in-order',
            'documents kept in arrival order instead of placed by index',
            async (world) => {
              // Documents of one length: a provider that keeps them in arrival order then returns each
              // place another document's vectors, which the check names, rather than failing on a count.
              // Two chunks each where the chunk limit lets the documents share one call, else one.
              const count = Math.min(4, suite.cap);
              const chunks = count * 2 <= suite.chunkCap ? 2 : 1;
              const documents = suite.documents(new Array<number>(count).fill(chunks), 'order');
              suite.respondAll(world, documents, suite.success({ order: reversed }));
              const result = await embedContextualized(suite.settings(world, { documents }));
              suite.expectVectors(result, documents);
            },
          )
        : skip('ctx-documents-in-order', 'the model takes one document per call'),
    );
    if (wire.reportsUsage) {
      cases.push(
        suite.cap >= 2
          ? check(
              'ctx-usage-summed',
              'usage of one call reported for the job, or counted twice',
              async (world) => {
                const documents = suite.documents([2, 1, 3], 'usage');
                const extra = { maxDocumentsPerCall: 2, concurrency: 1 };
                const calls = suite.respondAll(world, documents, suite.success(), extra);
                const result = await embedContextualized(suite.settings(world, { documents, ...extra }));
                assert.deepEqual(result.usage, { inputTokens: suite.usageTokens(documents) });
                assert.equal(result.responses.length, calls.length);
              },
            )
          : skip('ctx-usage-summed', 'the model takes one document per call'),
        check(
          'ctx-usage-missing',
          'an answer without usage reported as 0 tokens (a count the API never gave) instead of no usage',
          async (world) => {
            const documents = suite.documents([2], 'usage none');
            world.respond(1, suite.success({ usage: false }));
            // No retry: a wire that cannot write an answer without usage is named, not answered again.
            const result = await embedContextualized(suite.settings(world, { documents, maxRetries: 0 }));
            suite.expectVectors(result, documents);
            assert.equal(
              result.usage,
              undefined,
              `usage is absent when the answer carries none, not ${JSON.stringify(result.usage)}`,
            );
            assert.equal('usage' in result, false, 'no usage key at all');
          },
        ),
      );
    }
    return cases;
  },
};
