/** The everyday call: one input, a batch, answers out of order, structured inputs, headers and usage. */
import { strict as assert } from 'node:assert';
import { type EmbedInput, type EmbedSettings, embedMany } from '@embedkit/core';
import type { Harness } from '../harness.js';
import {
  assertNoSecret,
  CALL_HEADERS,
  expectCallHeadersNotKept,
  expectCustomHeaders,
  expectKeyInAuthHeader,
  expectRequestIdsKept,
  type KeyFound,
  keyFinder,
  withoutKey,
} from '../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import { budgetBinds, type EmbeddingSuite, SUCCESS_REQUEST_ID, splitJob } from './suite.js';

/**
 * One single-input job for each setting that shapes a request: the defaults, each declared input and
 * quantized output type, a title, `truncate: true` and each option example.
 */
interface FieldJob {
  label: string;
  input: EmbedInput;
  settings: Partial<EmbedSettings>;
}

function fieldJobs(suite: EmbeddingSuite): FieldJob[] {
  const { capabilities, wire } = suite;
  const jobs: FieldJob[] = [{ label: 'the defaults', input: 'fields: defaults', settings: {} }];
  for (const inputType of capabilities.inputTypes ?? [])
    jobs.push({ label: `inputType ${inputType}`, input: `fields: ${inputType}`, settings: { inputType } });
  if (wire.outputTypeOf !== undefined)
    for (const outputType of capabilities.outputTypes ?? [])
      if (outputType !== 'float')
        jobs.push({
          label: `outputType ${outputType}`,
          input: `fields: ${outputType}`,
          settings: { outputType },
        });
  if (wire.titles !== undefined)
    jobs.push({
      label: 'a title',
      input: { text: 'fields: titled', title: 'A title' },
      settings: {
        ...(wire.titles.inputType === undefined ? {} : { inputType: wire.titles.inputType }),
      },
    });
  jobs.push({ label: 'truncate: true', input: 'fields: truncate', settings: { truncate: true } });
  for (const example of wire.options ?? [])
    jobs.push({
      label: `option ${example.name}`,
      input: `fields: ${example.name}`,
      settings: { providerOptions: { [suite.provider]: example.options } },
    });
  return jobs;
}

/** Makes one single-input call, and gives what finds the key in any form, for the checks of where it must not go. */
async function keyFinderAfterOneCall(
  suite: EmbeddingSuite,
  world: Harness,
): Promise<(text: string) => KeyFound | undefined> {
  world.respond(1, suite.success());
  await embedMany({ ...suite.settings(world), inputs: ['x'] });
  return keyFinder(world.apiKey, [suite.wire.authHeader(world.apiKey).value]);
}

/** The other model id `model-named` asks, beside the suite's. */
export function secondModelId(modelId: string): string {
  return `${modelId}-next`;
}

export const basics: Family<EmbeddingSuite, Harness> = {
  name: 'basics',
  checks:
    'one input, a batch, repeated inputs, answers out of order, { text } inputs, custom headers, the model asked, usage, floats as sent, the key kept out of the URL, only known request fields',
  splits: true,
  cases: (suite) => {
    const { wire } = suite;
    const shuffled = suite.inputsByCount(Math.min(6, suite.cap));
    const cases: (Case<Harness> | SkippedCase)[] = [
      check(
        'single',
        "the key in the wrong header, the body not sent as JSON, the auth or content-type header sent twice, the input altered, usage guessed, lost or read from the wrong count (a request's total for its input tokens), the request id or status lost, the key in the result, an answer refused for a charset in its content type",
        async (world) => {
          const texts = ['pets and animals'];
          // Many APIs name the charset of their JSON: a provider matching `application/json` exactly refuses them.
          world.respond(1, (request) => {
            const reply = suite.success()(request);
            return {
              ...reply,
              headers: { ...reply.headers, 'content-type': 'application/json; charset=utf-8' },
            };
          });
          const result = await embedMany({ ...suite.settings(world), inputs: texts });
          suite.expectVectors(result, texts);
          const request = world.interceptor.requests[0]!;
          assert.equal(request.method, 'POST', 'the call is a POST');
          assert.match(
            request.headers['content-type'] ?? '(none)',
            /^application\/json\s*(;|$)/i,
            'the body is sent as application/json, in one content-type header',
          );
          assert.equal(result.responses[0]?.status, 200, "the result keeps the answer's status");
          expectRequestIdsKept(result.responses, wire.requestIdHeader, SUCCESS_REQUEST_ID);
          // Request headers (the key's among them) belong to the request, never to the result.
          const auth = wire.authHeader(world.apiKey);
          assertNoSecret(result, world.apiKey, [auth.value]);
          expectKeyInAuthHeader(request.headers, auth);
          assert.deepEqual(wire.inputsOf(request.body), texts, 'the input is sent as given');
          if (wire.reportsUsage)
            assert.deepEqual(
              result.usage,
              { inputTokens: suite.usageTokens(texts) },
              `usage is the API's count of input tokens (${suite.usageTokens(texts)}), not ${JSON.stringify(result.usage)}`,
            );
          else assert.equal(result.usage, undefined, 'usage is absent when the API reports none');
        },
      ),
      check('batch', 'an input lost or sent twice', async (world) => {
        const texts = suite.inputs(5);
        suite.respondAll(world, texts, suite.success());
        const result = await embedMany({ ...suite.settings(world), inputs: texts });
        suite.expectVectors(result, texts);
        assert.deepEqual(
          world.interceptor.requests.flatMap((request) => wire.inputsOf(request.body)).sort(),
          [...texts].sort(),
          'every input sent once',
        );
      }),
      check(
        'structured-text-inputs',
        'a { text } input sent as an object or as "[object Object]", or the caller\'s inputs changed',
        async (world) => {
          const inputs = [
            { text: 'a structured input' },
            'a plain input',
            { text: 'another structured one' },
          ];
          const texts = inputs.map((input) => (typeof input === 'string' ? input : input.text));
          const given = structuredClone(inputs);
          suite.respondAll(world, texts, suite.success());
          const result = await embedMany({ ...suite.settings(world), inputs });
          suite.expectVectors(result, texts);
          assert.deepEqual(inputs, given, "the caller's inputs are left as they were");
          assert.deepEqual(
            suite
              .allItems(world)
              .map((item) => item.text)
              .sort(),
            [...texts].sort(),
            'each input sent as its text',
          );
        },
      ),
      check(
        'headers-any-case',
        "a call's header spread beside the provider's own of another letter case (`Authorization` beside `authorization`), so both go out as one header holding both values, the key included",
        async (world) => {
          world.respond(1, suite.success());
          const auth = wire.authHeader(world.apiKey);
          // The names as a caller writes them: each word capitalized, as the provider's own are not.
          const capitalized = (name: string) =>
            name.replace(/(^|-)([a-z])/g, (_, dash, letter: string) => `${dash}${letter.toUpperCase()}`);
          await embedMany({
            ...suite.settings(world),
            inputs: ['x'],
            headers: { 'X-Provider-Header': 'per-call', [capitalized(auth.name)]: 'gateway-credential' },
          });
          const request = world.interceptor.requests[0]!;
          assert.equal(
            request.headers['x-provider-header'],
            'per-call',
            "a call's header replaces the provider setting's of the same name in another case",
          );
          assert.equal(
            request.headers[auth.name.toLowerCase()],
            'gateway-credential',
            "a call's auth header replaces the provider's own, whatever the case of its name",
          );
        },
      ),
      check(
        'custom-headers',
        "provider or per-call headers dropped, or a call's headers kept for the calls after it",
        async (world) => {
          world.respond(1, suite.success(), { times: 2 });
          await embedMany({ ...suite.settings(world), inputs: ['x'], headers: CALL_HEADERS });
          expectCustomHeaders(world.interceptor.requests[0]!.headers, 'the embeddings request');
          await embedMany({ ...suite.settings(world), inputs: ['y'] });
          expectCallHeadersNotKept(world.interceptor.requests[1]!.headers, 'the second embeddings request');
        },
      ),
    ];
    cases.push(
      wire.modelOf === undefined
        ? skip('model-named', 'the wire profile cannot read the model a request names (modelOf)')
        : check(
            'model-named',
            'a model fixed in the provider (even to the one the suite asks), or named another way, instead of the one asked',
            async (world) => {
              await splitJob(suite, world, 'model');
              // Another id, so a provider that always names the suite's model is caught too. Its lengths are
              // not known, so its job asks none; what matters is what its request names.
              const other = secondModelId(suite.modelId);
              const second = world.withModel(other);
              const before = world.interceptor.requests.length;
              second.respond(1, suite.success());
              const { dimensions: _none, ...settings } = suite.settings(second, { maxRetries: 0 });
              const failure = await embedMany({ ...settings, inputs: ['model: the second one'] }).then(
                () => undefined,
                (error: unknown) => error as Error,
              );
              if (world.interceptor.requests.length === before)
                assert.fail(
                  `the job with model ${JSON.stringify(other)} sent no request${failure === undefined ? '' : `: ${failure.message}`}`,
                );
              const expected = [
                ...world.interceptor.requests.slice(0, before).map(() => suite.modelId),
                other,
              ];
              for (const [index, request] of world.interceptor.requests.entries())
                assert.equal(
                  wire.modelOf!(request),
                  expected[index],
                  `request ${index} names the model ${JSON.stringify(wire.modelOf!(request))}, not ${JSON.stringify(expected[index])}`,
                );
            },
          ),
      check(
        'key-not-in-url',
        'the key sent in the URL, where proxies and server logs keep it',
        async (world) => {
          const find = await keyFinderAfterOneCall(suite, world);
          for (const request of world.interceptor.requests) {
            if (find(request.path) !== undefined)
              assert.fail(`the key is in the request URL: ${withoutKey(request.path, find)}`);
          }
        },
      ),
      check(
        'key-only-in-auth-header',
        'the key sent in another header as well as the auth header (`x-api-key` beside `authorization`), where proxies that hide the auth header log it',
        async (world) => {
          const find = await keyFinderAfterOneCall(suite, world);
          const auth = wire.authHeader(world.apiKey);
          for (const request of world.interceptor.requests)
            for (const [name, value] of Object.entries(request.headers))
              if (name !== auth.name.toLowerCase() && find(value) !== undefined)
                assert.fail(`the key is sent in the ${name} header, not only in ${auth.name}`);
        },
      ),
      wire.unknownFields === undefined
        ? skip('request-fields', 'the wire profile cannot name unknown request fields (unknownFields)')
        : check(
            'request-fields',
            'a request field the API does not know (a misspelt or borrowed name), which it refuses or ignores',
            async (world) => {
              const jobs = fieldJobs(suite);
              world.respond(1, suite.success(), { times: jobs.length });
              for (const { input, settings } of jobs)
                await embedMany({ ...suite.settings(world), ...settings, inputs: [input] });
              for (const [index, request] of world.interceptor.requests.entries()) {
                const unknown = wire.unknownFields!(request.body);
                assert.deepEqual(
                  unknown,
                  [],
                  `the request for ${jobs[index]?.label} carries fields the API does not know: ${unknown.join(', ')}`,
                );
              }
            },
          ),
    );
    cases.push(
      check(
        'duplicate-inputs',
        'a repeated input dropped or deduplicated (a provider sends every input as given, repeats included: usage and late chunking count them), or its vector put at another input',
        async (world) => {
          const [a, b, c] = suite.inputs(3, 'repeated') as [string, string, string];
          const texts = [a, a, b, a, c, a];
          suite.respondAll(world, texts, suite.success());
          const outcome = await embedMany({ ...suite.settings(world), inputs: texts }).then(
            (result) => ({ result }),
            (error: unknown) => ({ error }),
          );
          const sent = world.interceptor.requests.flatMap((request) => wire.inputsOf(request.body));
          assert.deepEqual(
            [...sent].sort(),
            [...texts].sort(),
            `every input is sent, repeats included: ${sent.length} sent for ${texts.length} inputs`,
          );
          if ('error' in outcome) throw outcome.error;
          suite.expectVectors(outcome.result, texts);
        },
      ),
      suite.cap < 2
        ? skip('shuffled-indices', 'the model takes one input per call')
        : shuffled === undefined
          ? skip('shuffled-indices', budgetBinds(suite, Math.min(6, suite.cap)))
          : check(
              'shuffled-indices',
              'vectors kept in arrival order instead of placed by index',
              async (world) => {
                // One call of up to six inputs, answered in reverse.
                const texts = shuffled;
                world.respond(
                  texts.length,
                  suite.success({
                    order: (count) => Array.from({ length: count }, (_, index) => count - 1 - index),
                  }),
                );
                const result = await embedMany({ ...suite.settings(world), inputs: texts });
                suite.expectVectors(result, texts);
              },
            ),
      (wire.options ?? []).some((example) => example.vectors !== undefined)
        ? skip(
            'floats-as-sent',
            'the provider changes float vectors on the client under an option (options with vectors), which option-<name> checks',
          )
        : check(
            'floats-as-sent',
            'float vectors re-normalized or rescaled on the client instead of returned exactly as the API sent them',
            async (world) => {
              // Twice unit length: a provider that scales its vectors to unit length halves them.
              const texts = suite.inputs(3, 'as sent');
              suite.respondAll(world, texts, suite.success({ scale: 2 }));
              const result = await embedMany({ ...suite.settings(world), inputs: texts });
              suite.expectScaledVectors(result, texts, 2);
            },
          ),
    );
    if (wire.reportsUsage) {
      cases.push(
        suite.cap >= 2
          ? check(
              'usage-summed',
              'usage of one call reported for the job, or counted twice',
              async (world) => {
                // Calls of two, or fewer where the declared token budget binds first: several calls.
                const texts = suite.inputs(3, 'usage');
                suite.respondAll(world, texts, suite.success(), { maxInputsPerCall: 2 });
                const result = await embedMany({
                  ...suite.settings(world),
                  inputs: texts,
                  maxInputsPerCall: 2,
                });
                assert.deepEqual(
                  result.usage,
                  { inputTokens: suite.usageTokens(texts) },
                  `usage is the sum of the API's counts (${suite.usageTokens(texts)} tokens), not ${JSON.stringify(result.usage)}`,
                );
              },
            )
          : skip('usage-summed', 'the model takes one input per call'),
        check(
          'usage-missing',
          'an answer without usage reported as 0 tokens (a count the API never gave) instead of no usage',
          async (world) => {
            world.respond(1, suite.success({ usage: false }));
            // No retry: a wire that cannot write an answer without usage is named, not answered again.
            const result = await embedMany({
              ...suite.settings(world, { maxRetries: 0 }),
              inputs: ['usage: none sent'],
            });
            assert.equal(
              result.usage,
              undefined,
              `usage is absent when the answer carries none, not ${JSON.stringify(result.usage)}`,
            );
            assert.equal('usage' in result, false, 'no usage key at all');
          },
        ),
      );
    } else {
      cases.push(
        check('usage-absent', 'a guessed usage (or NaN) where the API reports none', async (world) => {
          const texts = suite.inputs(Math.min(3, suite.cap), 'usage');
          suite.respondAll(world, texts, suite.success());
          const result = await embedMany({ ...suite.settings(world), inputs: texts });
          assert.equal(result.usage, undefined);
          assert.equal('usage' in result, false, 'no usage key at all');
        }),
      );
    }
    return cases;
  },
};
