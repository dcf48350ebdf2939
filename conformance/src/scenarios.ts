import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import {
  type Embedding,
  EmbedKitError,
  type EmbedManyResult,
  type EmbedSettings,
  embedMany,
  INPUT_TYPES,
  type InputType,
  type TokenCounter,
} from '@embedkit/core';
import { hashVector } from '@embedkit/core/testing';
import { createHarness, type Harness } from './harness.js';
import type { TransportKind, WireReply } from './interceptor.js';
import type { DescribeEmbeddingProviderOptions, WireRequest } from './types.js';

/** Settings of a generated run: the normal one, or the re-run with tiny batches. */
export interface ScenarioMode {
  name: 'default' | 'tiny-batches';
  maxInputsPerCall?: number;
  concurrency?: number;
}

export const DEFAULT_MODE: ScenarioMode = { name: 'default' };
export const TINY_MODE: ScenarioMode = { name: 'tiny-batches', maxInputsPerCall: 2, concurrency: 1 };

export interface Scenario {
  /** Stable id, the key for `expectedFailures`. */
  id: string;
  run(kind: TransportKind): Promise<void>;
}

type SuiteOptions = Pick<
  DescribeEmbeddingProviderOptions,
  'name' | 'createModel' | 'baseURL' | 'modelId' | 'wire'
>;

/** The vector the fake API returns for an input: deterministic, unit length, exact in float32. */
export function vectorFor(text: string, dimensions: number): number[] {
  return Array.from(hashVector(text, dimensions));
}

function closeTo(actual: Embedding, expected: readonly number[], label: string): void {
  assert.equal(
    actual.length,
    expected.length,
    `${label}: length ${actual.length}, expected ${expected.length}`,
  );
  for (let index = 0; index < expected.length; index++) {
    const difference = Math.abs(actual[index]! - expected[index]!);
    if (!(difference <= 1e-6))
      assert.fail(`${label}: value ${index} is ${actual[index]}, expected ${expected[index]}`);
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  return assert.fail('the call succeeded, but it had to fail');
}

function inputs(count: number, prefix = 'input'): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix} ${index}: the quick brown fox ${index % 7}`);
}

function usageTokens(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + text.length, 0);
}

/**
 * Generates every scenario the model's capabilities call for. Each one runs against a fresh
 * interceptor and fails on any unused expectation.
 */
export function listScenarios(options: SuiteOptions, mode: ScenarioMode = DEFAULT_MODE): Scenario[] {
  const { wire } = options;
  const probe = createModelProbe(options);
  const capabilities = probe.capabilities;
  const cap = Math.min(capabilities.maxInputsPerCall, mode.maxInputsPerCall ?? Number.POSITIVE_INFINITY);
  const allowed = capabilities.dimensions;
  // A small length keeps large batches cheap; a model with fixed length uses its own.
  const chosenDimensions =
    allowed === undefined
      ? undefined
      : 'min' in allowed
        ? Math.max(allowed.min, Math.min(allowed.max, 16))
        : [...allowed].sort((a, b) => a - b)[0];
  const dimensionsFor = (body: unknown) => wire.dimensionsOf(body) ?? capabilities.defaultDimensions ?? 8;

  /** Calls of the sizes the engine must make for `count` inputs. */
  const callSizes = (count: number, perCall = cap): number[] => {
    const sizes: number[] = [];
    for (let left = count; left > 0; left -= perCall) sizes.push(Math.min(perCall, left));
    return sizes;
  };

  const success =
    (overrides: { order?: (count: number) => number[]; mutate?: (vectors: number[][]) => void } = {}) =>
    (request: WireRequest): WireReply => {
      const texts = wire.inputsOf(request.body);
      if (wire.maxInputsPerRequest !== undefined && texts.length > wire.maxInputsPerRequest) {
        const message = `${texts.length} inputs exceed the API's limit of ${wire.maxInputsPerRequest} per request`;
        return { status: 400, body: wire.errorBody({ status: 400, message }) };
      }
      const dimensions = dimensionsFor(request.body);
      const vectors = texts.map((text) => vectorFor(text, dimensions));
      overrides.mutate?.(vectors);
      const order = overrides.order?.(vectors.length) ?? vectors.map((_, index) => index);
      const body = wire.successBody({
        body: request.body,
        vectors,
        order,
        ...(wire.reportsUsage ? { usageTokens: usageTokens(texts) } : {}),
      });
      return { status: 200, headers: { 'x-request-id': 'req-conformance-1' }, body };
    };

  const settings = (harness: Harness, extra: Partial<EmbedSettings> = {}): EmbedSettings => ({
    model: harness.model,
    clock: harness.clock,
    maxRetries: 3,
    ...(mode.maxInputsPerCall === undefined ? {} : { maxInputsPerCall: mode.maxInputsPerCall }),
    ...(mode.concurrency === undefined ? {} : { concurrency: mode.concurrency }),
    ...(chosenDimensions === undefined ? {} : { dimensions: chosenDimensions }),
    ...extra,
  });

  const scenario = (
    id: string,
    body: (harness: Harness) => Promise<void>,
    harnessExtra?: { headers?: Record<string, string> },
  ): Scenario => ({
    id,
    async run(kind) {
      const harness = createHarness(options, kind, harnessExtra);
      try {
        const outcome = await body(harness).then(
          () => undefined,
          (error: unknown) => ({ error }),
        );
        // A throwing reply handler is the real cause of whatever the call then did.
        if (harness.interceptor.handlerErrors.length > 0) throw harness.interceptor.handlerErrors[0];
        if (outcome !== undefined) throw outcome.error;
        assert.deepEqual(harness.interceptor.pending(), [], 'every expected request was made');
      } finally {
        await harness.close();
      }
    },
  });

  /** Checks every vector equals the fake API's vector for its own input, in input order. */
  const expectVectors = (result: EmbedManyResult, texts: readonly string[], dimensions: number) => {
    assert.equal(result.embeddings.length, texts.length, 'one vector per input');
    texts.forEach((text, index) => {
      assert.ok(result.embeddings[index] instanceof Float32Array, `vector ${index} is a Float32Array`);
      closeTo(result.embeddings[index]!, vectorFor(text, dimensions), `vector ${index}`);
    });
  };

  const errorReply =
    (
      status: number,
      message: string,
      kind?: 'quota-exhausted' | 'batch-too-large',
      headers?: Record<string, string>,
    ) =>
    (): WireReply => ({
      status,
      body: wire.errorBody({ status, message, ...(kind === undefined ? {} : { kind }) }),
      ...(headers === undefined ? {} : { headers }),
    });

  const dims = chosenDimensions ?? capabilities.defaultDimensions ?? 8;
  const list: Scenario[] = [];

  list.push(
    scenario('single', async (harness) => {
      const texts = ['pets and animals'];
      harness.respond(1, success());
      const result = await embedMany({ ...settings(harness), inputs: texts });
      expectVectors(result, texts, dims);
      const request = harness.interceptor.requests[0]!;
      const auth = wire.authHeader(harness.apiKey);
      assert.equal(
        request.headers[auth.name.toLowerCase()],
        auth.value,
        'the key is sent in the auth header',
      );
      assert.match(request.headers['user-agent'] ?? '', /^embedkit\//, 'user-agent names embedkit');
      assert.deepEqual(wire.inputsOf(request.body), texts, 'the input is sent as given');
      if (wire.reportsUsage) assert.deepEqual(result.usage, { inputTokens: usageTokens(texts) });
      else assert.equal(result.usage, undefined, 'usage is absent when the API reports none');
    }),
  );

  list.push(
    scenario('batch', async (harness) => {
      const texts = inputs(5);
      for (const size of callSizes(texts.length)) harness.respond(size, success());
      const result = await embedMany({ ...settings(harness), inputs: texts });
      expectVectors(result, texts, dims);
      assert.deepEqual(
        harness.interceptor.requests.flatMap((request) => wire.inputsOf(request.body)).sort(),
        [...texts].sort(),
        'every input sent once',
      );
    }),
  );

  if (cap >= 2) {
    list.push(
      scenario('shuffled-indices', async (harness) => {
        const texts = inputs(Math.min(6, cap));
        harness.respond(
          texts.length,
          success({ order: (count) => Array.from({ length: count }, (_, index) => count - 1 - index) }),
        );
        const result = await embedMany({ ...settings(harness), inputs: texts });
        expectVectors(result, texts, dims);
      }),
    );
  }

  list.push(
    scenario('split-at-max-inputs', async (harness) => {
      const texts = inputs(cap, 'at');
      harness.respond(cap, success());
      const result = await embedMany({ ...settings(harness), inputs: texts });
      expectVectors(result, texts, dims);
      assert.equal(harness.interceptor.requests.length, 1, `${cap} inputs fit one call`);
    }),
    scenario('split-above-max-inputs', async (harness) => {
      const texts = inputs(cap + 1, 'above');
      harness.respond(cap, success());
      harness.respond(1, success());
      const result = await embedMany({ ...settings(harness), inputs: texts });
      expectVectors(result, texts, dims);
      assert.deepEqual(
        harness.interceptor.requests
          .map((request) => wire.inputsOf(request.body).length)
          .sort((a, b) => b - a),
        [cap, 1],
      );
    }),
  );

  const budget = capabilities.maxTokensPerCall;
  if (budget !== undefined && cap >= 2) {
    list.push(
      scenario('token-budget-split', async (harness) => {
        // Each input counts as 40% of the budget: two fit a call, three do not.
        const counter: TokenCounter = { exact: false, count: () => Math.floor(budget * 0.4) };
        const texts = inputs(3, 'budget');
        harness.respond(2, success());
        harness.respond(1, success());
        const result = await embedMany({ ...settings(harness), inputs: texts, tokenCounter: counter });
        expectVectors(result, texts, dims);
        assert.deepEqual(
          harness.interceptor.requests.map((request) => wire.inputsOf(request.body)),
          [texts.slice(0, 2), texts.slice(2)],
        );
      }),
    );
  }

  if (allowed !== undefined) {
    const values = 'min' in allowed ? [allowed.min, allowed.max] : [...allowed];
    const pick =
      values.find((value) => value !== capabilities.defaultDimensions && value <= 4096) ?? values[0]!;
    list.push(
      scenario('dimensions-honoured', async (harness) => {
        const texts = inputs(2, 'dims');
        for (const size of callSizes(texts.length)) harness.respond(size, success());
        const result = await embedMany({ ...settings(harness), inputs: texts, dimensions: pick });
        for (const request of harness.interceptor.requests)
          assert.equal(wire.dimensionsOf(request.body), pick, 'dimensions sent');
        expectVectors(result, texts, pick);
      }),
    );
    const invalid = 'min' in allowed ? allowed.max + 1 : Math.max(...allowed) + 1;
    list.push(
      scenario('dimensions-invalid', async (harness) => {
        const error = await rejection(
          embedMany({ ...settings(harness), inputs: ['x'], dimensions: invalid }),
        );
        assert.equal(error.name, 'InvalidArgumentError');
        assert.equal(error.code, 'invalid_argument');
        assert.equal(harness.interceptor.requests.length, 0, 'nothing was sent');
      }),
    );
  } else {
    list.push(
      scenario('dimensions-unsupported', async (harness) => {
        const error = await rejection(embedMany({ ...settings(harness), inputs: ['x'], dimensions: 64 }));
        assert.equal(error.name, 'InvalidArgumentError');
        assert.equal(harness.interceptor.requests.length, 0, 'nothing was sent');
      }),
    );
  }

  for (const inputType of capabilities.inputTypes) {
    list.push(
      scenario(`input-type-${inputType}`, async (harness) => {
        harness.respond(1, success());
        harness.respond(1, success());
        await embedMany({ ...settings(harness), inputs: ['pets and animals'] });
        const result = await embedMany({ ...settings(harness), inputs: ['pets and animals'], inputType });
        const [plain, typed] = harness.interceptor.requests;
        assert.equal(
          wire.inputTypeOf(typed!.body),
          inputType,
          `"${inputType}" is sent as the provider's word for it`,
        );
        assert.notDeepEqual(typed!.body, plain!.body, 'the input type changes the request');
        assert.deepEqual(result.warnings, [], 'no warning for a supported input type');
      }),
    );
  }
  const unsupported = INPUT_TYPES.find(
    (inputType: InputType) => !capabilities.inputTypes.includes(inputType),
  );
  if (unsupported !== undefined) {
    list.push(
      scenario('input-type-unsupported', async (harness) => {
        harness.respond(1, success());
        const result = await embedMany({ ...settings(harness), inputs: ['x'], inputType: unsupported });
        assert.equal(
          wire.inputTypeOf(harness.interceptor.requests[0]!.body),
          undefined,
          'no input type sent',
        );
        assert.ok(
          result.warnings.some((warning) => warning.setting === 'inputType'),
          'a warning names inputType',
        );
        const error = await rejection(
          embedMany({ ...settings(harness), inputs: ['x'], inputType: unsupported, strict: true }),
        );
        assert.equal(error.name, 'InvalidArgumentError');
      }),
    );
  }

  const notRetried: [number, string, string][] = [
    [400, 'InvalidRequestError', 'invalid_request'],
    [401, 'AuthenticationError', 'authentication'],
    [403, 'PermissionDeniedError', 'permission_denied'],
    [404, 'NotFoundError', 'not_found'],
  ];
  for (const [status, name, code] of notRetried) {
    list.push(
      scenario(`error-${status}`, async (harness) => {
        harness.respond(1, errorReply(status, `conformance error ${status}`));
        const error = await rejection(embedMany({ ...settings(harness), inputs: ['x'] }));
        assert.equal(error.name, name);
        assert.equal(error.code, code);
        assert.equal(error.statusCode, status);
        assert.equal(error.isRetryable, false);
        assert.match(error.message, new RegExp(`conformance error ${status}`), 'the API message is kept');
        assert.equal(harness.interceptor.requests.length, 1, 'not retried');
      }),
    );
  }

  // HTTP-dates have whole seconds, so a date 5 s ahead means a wait of 4 to 5 s.
  const waits: [string, () => Record<string, string>, (sleep: number) => boolean][] = [
    ['seconds', () => ({ 'retry-after': '2' }), (sleep) => sleep === 2_000],
    ['milliseconds', () => ({ 'retry-after-ms': '1500' }), (sleep) => sleep === 1_500],
    [
      'http-date',
      () => ({ 'retry-after': new Date(Date.now() + 5_000).toUTCString() }),
      (sleep) => sleep > 3_000 && sleep <= 5_000,
    ],
  ];
  for (const [form, headersNow, ok] of waits) {
    list.push(
      scenario(`error-429-retry-after-${form}`, async (harness) => {
        const headers = headersNow();
        harness.respond(1, errorReply(429, 'rate limited', undefined, headers));
        harness.respond(1, success());
        const result = await embedMany({ ...settings(harness), inputs: ['x'] });
        assert.equal(result.embeddings.length, 1);
        assert.equal(harness.interceptor.requests.length, 2, 'retried once');
        assert.equal(harness.clock.sleeps.length, 1, 'one wait');
        assert.ok(
          ok(harness.clock.sleeps[0]!),
          `waited ${harness.clock.sleeps[0]} ms for ${JSON.stringify(headers)}`,
        );
      }),
    );
  }
  list.push(
    scenario('error-429-quota-exhausted', async (harness) => {
      harness.respond(1, errorReply(429, 'quota used up', 'quota-exhausted'));
      const error = await rejection(embedMany({ ...settings(harness), inputs: ['x'] }));
      assert.equal(error.name, 'RateLimitError');
      assert.equal(error.quotaExhausted, true);
      assert.equal(error.isRetryable, false);
      assert.equal(harness.interceptor.requests.length, 1, 'a used-up quota is not retried');
    }),
    scenario('error-batch-too-large-bisects', async (harness) => {
      const texts = inputs(Math.min(4, cap), 'bisect');
      if (texts.length < 2) return;
      harness.respond(texts.length, errorReply(400, 'too many tokens in this request', 'batch-too-large'));
      const half = Math.ceil(texts.length / 2);
      harness.respond(half, success());
      harness.respond(texts.length - half, success());
      const result = await embedMany({ ...settings(harness), inputs: texts });
      expectVectors(result, texts, dims);
      assert.deepEqual(
        harness.interceptor.requests.map((request) => wire.inputsOf(request.body).length),
        [texts.length, half, texts.length - half],
      );
    }),
    scenario('error-5xx-retried', async (harness) => {
      harness.respond(1, errorReply(500, 'internal'));
      harness.respond(1, errorReply(503, 'unavailable'));
      harness.respond(1, success());
      const result = await embedMany({ ...settings(harness), inputs: ['x'] });
      assert.equal(result.embeddings.length, 1);
      assert.equal(harness.interceptor.requests.length, 3);
    }),
    scenario('error-5xx-exhausted', async (harness) => {
      harness.respond(1, errorReply(503, 'unavailable'), { times: 3 });
      const error = await rejection(embedMany({ ...settings(harness), inputs: ['x'], maxRetries: 2 }));
      assert.equal(error.name, 'RetryError');
      assert.equal(error.code, 'retries_exhausted');
      assert.equal((error.lastError as Error).name, 'ServerError');
      assert.equal(error.attempts, 3);
    }),
    scenario('connection-reset', async (harness) => {
      harness.respond(1, success(), { connectionError: 'reset' });
      harness.respond(1, success());
      const result = await embedMany({ ...settings(harness), inputs: ['x'] });
      assert.equal(result.embeddings.length, 1);
      const error = await rejection(
        (async () => {
          harness.respond(1, success(), { connectionError: 'reset' });
          await embedMany({ ...settings(harness), inputs: ['x'], maxRetries: 0 });
        })(),
      );
      assert.equal(error.name, 'ConnectionError');
      assert.equal(error.isRetryable, true);
    }),
    scenario('timeout', async (harness) => {
      harness.respond(1, success(), { delayMs: 400 });
      const error = await rejection(
        embedMany({ ...settings(harness), inputs: ['x'], maxRetries: 0, timeoutMs: 40 }),
      );
      assert.equal(error.name, 'TimeoutError');
      assert.equal(error.code, 'timeout');
    }),
    scenario('abort-during-request', async (harness) => {
      // The answer would come after 3 s; an abort at 30 ms must end the request on the wire. The engine
      // waits for the call in flight before it settles, so a provider that does not hand the signal to
      // its HTTP request holds the caller until the answer arrives.
      harness.respond(1, success(), { delayMs: 3_000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      const started = performance.now();
      const error = await rejection(
        embedMany({ ...settings(harness), inputs: ['x'], signal: controller.signal }),
      );
      const elapsed = performance.now() - started;
      assert.equal(error.name, 'AbortError', 'the native AbortError');
      assert.equal(EmbedKitError.isInstance(error), false, 'not wrapped in an embedkit error');
      assert.ok(
        elapsed < 1_500,
        `the request in flight was not aborted: the call settled after ${Math.round(elapsed)} ms`,
      );
    }),
    scenario('abort-during-backoff', async (harness) => {
      harness.respond(1, errorReply(503, 'unavailable'));
      const controller = new AbortController();
      harness.clock.onSleep = () => controller.abort();
      const error = await rejection(
        embedMany({ ...settings(harness), inputs: ['x'], signal: controller.signal }),
      );
      assert.equal(error.name, 'AbortError');
      assert.equal(harness.interceptor.requests.length, 1, 'no attempt after the abort');
    }),
    scenario('malformed-json', async (harness) => {
      harness.respond(1, () => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"data": [{"index": 0,',
      }));
      const error = await rejection(embedMany({ ...settings(harness), inputs: ['x'] }));
      assert.equal(error.name, 'InvalidResponseError');
      assert.equal(harness.interceptor.requests.length, 1, 'not retried');
    }),
    scenario('html-502', async (harness) => {
      const page =
        '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';
      harness.respond(1, () => ({ status: 502, headers: { 'content-type': 'text/html' }, body: page }), {
        times: 2,
      });
      const error = await rejection(embedMany({ ...settings(harness), inputs: ['x'], maxRetries: 1 }));
      assert.equal(error.name, 'RetryError');
      const last = error.lastError as Error & { statusCode?: number };
      assert.equal(last.name, 'ServerError');
      assert.equal(last.statusCode, 502);
      assert.match(last.message, /502 Bad Gateway/);
      assert.doesNotMatch(last.message, /<h1>/, 'markup is stripped from the message');
    }),
  );

  const brokenAnswer = (id: string, mutate: (vectors: number[][]) => void) =>
    scenario(id, async (harness) => {
      const texts = inputs(Math.min(3, cap), id);
      harness.respond(texts.length, success({ mutate }));
      const error = await rejection(embedMany({ ...settings(harness), inputs: texts }));
      assert.equal(error.name, 'InvalidResponseError', `${id}: ${error.message}`);
      assert.equal(harness.interceptor.requests.length, 1, 'not retried');
    });
  list.push(
    brokenAnswer('wrong-vector-count', (vectors) => {
      vectors.pop();
    }),
    brokenAnswer('wrong-dimension', (vectors) => {
      vectors[vectors.length - 1] = vectors[vectors.length - 1]!.slice(0, -1);
    }),
    brokenAnswer('nan-in-vector', (vectors) => {
      vectors[0]![1] = Number.NaN;
    }),
  );

  list.push(
    scenario('secret-redaction', async (harness) => {
      const echo = `invalid key ${harness.apiKey} for ${harness.apiKey.slice(0, 4)}`;
      harness.respond(1, errorReply(401, echo));
      harness.respond(1, () => ({
        status: 500,
        headers: { 'content-type': 'text/plain' },
        body: `upstream said: ${harness.apiKey}`,
      }));
      const errors = [
        await rejection(embedMany({ ...settings(harness), inputs: ['x'] })),
        await rejection(embedMany({ ...settings(harness), inputs: ['x'], maxRetries: 0 })),
      ];
      for (const error of errors) {
        const seen = [
          error.message,
          String(error.responseBody),
          String(error.url),
          String(error.stack),
          inspect(error, { depth: 5 }),
          JSON.stringify(error),
        ];
        for (const text of seen)
          assert.ok(
            !text.includes(harness.apiKey),
            `the API key leaked into ${error.name}: ${text.slice(0, 200)}`,
          );
      }
    }),
  );

  if (wire.reportsUsage && cap >= 2) {
    list.push(
      scenario('usage-summed', async (harness) => {
        const texts = inputs(3, 'usage');
        harness.respond(2, success());
        harness.respond(1, success());
        const result = await embedMany({ ...settings(harness), inputs: texts, maxInputsPerCall: 2 });
        assert.deepEqual(result.usage, { inputTokens: usageTokens(texts) });
      }),
    );
  } else if (!wire.reportsUsage) {
    list.push(
      scenario('usage-absent', async (harness) => {
        const texts = inputs(Math.min(3, cap), 'usage');
        for (const size of callSizes(texts.length)) harness.respond(size, success());
        const result = await embedMany({ ...settings(harness), inputs: texts });
        assert.equal(result.usage, undefined);
        assert.equal('usage' in result, false, 'no usage key at all');
      }),
    );
  }

  list.push(
    scenario(
      'custom-headers',
      async (harness) => {
        harness.respond(1, success());
        await embedMany({ ...settings(harness), inputs: ['x'], headers: { 'x-call-header': 'per-call' } });
        const request = harness.interceptor.requests[0]!;
        assert.equal(
          request.headers['x-provider-header'],
          'from-settings',
          'provider settings headers are sent',
        );
        assert.equal(request.headers['x-call-header'], 'per-call', 'per-call headers are sent');
      },
      { headers: { 'x-provider-header': 'from-settings' } },
    ),
  );

  return list.map((item) => ({ ...item, id: mode.name === 'default' ? item.id : `${mode.name}/${item.id}` }));
}

function createModelProbe(options: SuiteOptions) {
  return options.createModel({
    modelId: options.modelId,
    apiKey: 'probe',
    baseURL: options.baseURL,
    fetch: () => Promise.reject(new Error('the probe never calls')),
  });
}
