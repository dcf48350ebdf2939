/**
 * Declared limits held against the wire: the wire profile states the API's real limits, the model's
 * capabilities must not claim more, and a request at each limit goes in one call while one over splits.
 */
import { strict as assert } from 'node:assert';
import { embedMany, type TokenCounter } from '@embedkit/core';
import type { Harness } from '../harness.js';
import type { AnyError } from '../suite/checks.js';
import {
  budgetSplit,
  type Case,
  check,
  type Family,
  inCalls,
  type SkippedCase,
  skip,
} from '../suite/family.js';
import { budgetBinds, type EmbeddingSuite, tokenBudget } from './suite.js';

export const limits: Family<EmbeddingSuite, Harness> = {
  name: 'limits',
  checks:
    'capabilities within the API limits the wire states; at the input and token limits one call, one over two',
  splits: true,
  cases: (suite) => {
    const { wire, capabilities, cap } = suite;
    // Inputs short enough that the declared token budget closes no call before the input limit does.
    const atLimit = suite.inputsByCount(cap, 'at');
    const aboveLimit = suite.inputsByCount(cap + 1, 'above');
    const bisected = suite.inputsByCount(Math.min(4, cap), 'bisect');
    const cases: (Case<Harness> | SkippedCase)[] = [];
    cases.push(
      wire.maxInputsPerRequest === undefined &&
        wire.maxTokensPerRequest === undefined &&
        wire.maxTokensPerInput === undefined
        ? skip(
            'declared-limits',
            'the wire profile states no limit (maxInputsPerRequest, maxTokensPerRequest, maxTokensPerInput)',
          )
        : check(
            'declared-limits',
            'capabilities that claim more inputs or tokens per call than the API takes',
            async () => {
              if (wire.maxInputsPerRequest !== undefined)
                assert.ok(
                  capabilities.maxInputsPerCall <= wire.maxInputsPerRequest,
                  `maxInputsPerCall ${capabilities.maxInputsPerCall} is above the API's ${wire.maxInputsPerRequest}`,
                );
              if (wire.maxTokensPerRequest !== undefined)
                assert.ok(
                  capabilities.maxTokensPerCall !== undefined &&
                    capabilities.maxTokensPerCall <= wire.maxTokensPerRequest,
                  `maxTokensPerCall ${capabilities.maxTokensPerCall} is not within the API's ${wire.maxTokensPerRequest}`,
                );
              if (wire.maxTokensPerInput !== undefined)
                assert.ok(
                  capabilities.maxTokensPerInput !== undefined &&
                    capabilities.maxTokensPerInput <= wire.maxTokensPerInput,
                  `maxTokensPerInput ${capabilities.maxTokensPerInput} is not within the API's ${wire.maxTokensPerInput}`,
                );
            },
          ),
      wire.maxTokensPerInput === undefined
        ? skip('input-over-token-limit', 'the wire profile states no per-input limit (maxTokensPerInput)')
        : check(
            'input-over-token-limit',
            "an input over the API's limit sent whole (the model's maxTokensPerInput missing or too large)",
            async (world) => {
              // An exact counter: one token over the API's limit must be refused before anything is sent.
              const limit = wire.maxTokensPerInput!;
              const texts = suite.inputs(2, 'over the limit');
              const counter: TokenCounter = {
                exact: true,
                count: (input) =>
                  (typeof input === 'string' ? input : 'text' in input ? input.text : '') === texts[1]
                    ? limit + 1
                    : 1,
              };
              world.respond(texts.length, suite.success(), { optional: true });
              const error = await embedMany({
                ...suite.settings(world),
                inputs: texts,
                tokenCounter: counter,
              }).then(
                () =>
                  assert.fail(
                    `an input of ${limit + 1} tokens was sent; the model declares maxTokensPerInput ${capabilities.maxTokensPerInput}, the API takes ${limit}`,
                  ),
                (error: AnyError) => error,
              );
              assert.equal(error.name, 'InvalidArgumentError', `${error.name}: ${error.message}`);
              assert.match(error.message, /^Input 1 has \d+ tokens/, 'the error names the long input');
              assert.equal(world.interceptor.requests.length, 0, 'nothing was sent');
            },
          ),
      atLimit === undefined
        ? skip('split-at-max-inputs', budgetBinds(suite, cap))
        : check(
            'split-at-max-inputs',
            'a call at the declared input limit refused by the API',
            async (world) => {
              const texts = atLimit;
              world.respond(cap, suite.success());
              const result = await embedMany({ ...suite.settings(world), inputs: texts });
              suite.expectVectors(result, texts);
              assert.equal(world.interceptor.requests.length, 1, `${cap} inputs fit one call`);
            },
          ),
      aboveLimit === undefined
        ? skip('split-above-max-inputs', budgetBinds(suite, cap))
        : check('split-above-max-inputs', 'one input over the limit not split off', async (world) => {
            const texts = aboveLimit;
            world.respond(cap, suite.success());
            world.respond(1, suite.success());
            const result = await embedMany({ ...suite.settings(world), inputs: texts });
            suite.expectVectors(result, texts);
            assert.deepEqual(
              world.interceptor.requests
                .map((request) => wire.inputsOf(request.body).length)
                .sort((a, b) => b - a),
              [cap, 1],
            );
          }),
    );
    // The budget the engine closes a call at: the declared one, or the model's limiter's a minute below it.
    const budget = tokenBudget(suite)?.tokens;
    if (budget === undefined || cap < 2) {
      const reason =
        budget === undefined
          ? 'the model declares no maxTokensPerCall, nor its limiter a tokensPerMinute'
          : 'the model takes one input per call';
      cases.push(skip('token-budget-split', reason), skip('split-at-token-limit', reason));
    } else {
      cases.push(
        check('token-budget-split', 'calls packed past the token budget', async (world) => {
          // Counts that fit the budget, however small, split otherwise than the input cap alone would:
          // two inputs that make it, then one (at two inputs a call: one that makes it, then two).
          const texts = suite.inputs(3, 'budget');
          const { counter } = budgetCounts(texts, budget, cap);
          const extra = { tokenCounter: counter };
          const calls = suite.respondAll(world, texts, suite.success(), extra);
          assert.deepEqual(
            calls,
            budgetSplit(budget, cap).calls,
            'the calls the budget splits the inputs into',
          );
          const result = await embedMany({ ...suite.settings(world), inputs: texts, ...extra });
          suite.expectVectors(result, texts);
          assert.deepEqual(
            world.interceptor.requests.map((request) => wire.inputsOf(request.body)),
            inCalls(texts, calls),
          );
        }),
        wire.maxTokensPerRequest === undefined
          ? skip('split-at-token-limit', 'the wire profile states no token limit (maxTokensPerRequest)')
          : check(
              'split-at-token-limit',
              'a declared token budget above what the API takes: a call at the budget is refused',
              async (world) => {
                // Two inputs that make exactly the declared budget, and one token more: [a, b] then [c]
                // (at two inputs a call, [a] then [b, c], each call at the budget; at a budget of one
                // token, a call each). The fake API counts them so too.
                const texts = suite.inputs(3, 'tokens');
                const { tokens, counter } = budgetCounts(texts, budget, cap);
                const calls = budgetSplit(budget, cap).calls;
                for (const size of calls) world.respond(size, suite.success({ tokens }));
                const result = await embedMany({
                  ...suite.settings(world),
                  inputs: texts,
                  tokenCounter: counter,
                  concurrency: 1,
                });
                suite.expectVectors(result, texts);
                assert.deepEqual(
                  world.interceptor.requests.map((request) => wire.inputsOf(request.body)),
                  inCalls(texts, calls),
                  'the budget in one call, one token over in the next',
                );
              },
            ),
      );
    }
    cases.push(
      wire.signals?.batchTooLarge !== true
        ? skip(
            'error-batch-too-large-bisects',
            'the wire profile declares no batch-too-large signal (signals.batchTooLarge)',
          )
        : cap < 2
          ? skip('error-batch-too-large-bisects', 'the model takes one input per call')
          : bisected === undefined
            ? skip('error-batch-too-large-bisects', budgetBinds(suite, Math.min(4, cap)))
            : check(
                'error-batch-too-large-bisects',
                '"too many tokens" not recognised, so the call is not bisected',
                async (world) => {
                  const texts = bisected;
                  world.respond(
                    texts.length,
                    suite.errorReply(400, 'too many tokens in this request', { kind: 'batch-too-large' }),
                  );
                  const half = Math.ceil(texts.length / 2);
                  world.respond(half, suite.success());
                  world.respond(texts.length - half, suite.success());
                  const result = await embedMany({ ...suite.settings(world), inputs: texts });
                  suite.expectVectors(result, texts);
                  assert.deepEqual(
                    world.interceptor.requests.map((request) => wire.inputsOf(request.body).length),
                    [texts.length, half, texts.length - half],
                  );
                },
              ),
    );
    return cases;
  },
};

/**
 * A counter (and the fake API's count) for three inputs whose counts fit a budget of `budget` tokens a
 * call, in calls of at most `maxItems`: `budgetSplit`'s, by input.
 */
function budgetCounts(
  texts: readonly string[],
  budget: number,
  maxItems: number,
): { tokens(text: string): number; counter: TokenCounter } {
  const { counts } = budgetSplit(budget, maxItems);
  const table = new Map(texts.map((text, index) => [text, counts[index] ?? 1]));
  const tokens = (text: string) => table.get(text) ?? 1;
  return {
    tokens,
    counter: {
      exact: false,
      count: (input) => tokens(typeof input === 'string' ? input : 'text' in input ? input.text : ''),
    },
  };
}
