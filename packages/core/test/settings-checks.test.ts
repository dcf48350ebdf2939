/**
 * Settings that are not inputs are checked before anything is sent: a value of the wrong type must not
 * quietly change what goes out (a `truncate: 'false'` read as true), fail as a retried network error
 * (a header HTTP cannot carry), or throw away an answer already paid for (an `onProgress` that is not a
 * function). Each test names the defect it catches.
 */
import { describe, expect, it } from 'vitest';
import { embedContextualized } from '../src/contextualized.js';
import { embed, embedMany } from '../src/engine/embed.js';
import { InvalidArgumentError } from '../src/errors.js';
import { requestJson } from '../src/http/client.js';
import { createFetchTransport } from '../src/http/fetch-transport.js';
import { checkHeaders } from '../src/http/headers.js';
import { rerank } from '../src/rerank.js';
import { refusedBeforeAnyCall as refused, ScriptedModel } from './helpers.js';
import { recordingFetch, URL_BASE } from './http-helpers.js';

const SECRET = 'sk-test-SECRET123xyz';

describe('booleans', () => {
  it.each([['false'], ['no'], [1], [null]])(
    'truncate: %j is refused (it would have turned truncation on)',
    async (value) => {
      const error = await refused((model) =>
        embedMany({ model, inputs: ['a'], truncate: value as unknown as boolean }),
      );
      expect(error.argument).toBe('truncate');
      expect(error.message).toMatch(/^truncate must be true or false, got /);
    },
  );

  it('truncate: true and false are sent as they were', async () => {
    const model = new ScriptedModel();
    await embed({ model, input: 'a', truncate: true });
    await embed({ model, input: 'b', truncate: false });
    expect(model.calls.map((call) => call.request.truncate)).toEqual([true, undefined]);
  });

  it("strict: 'true' is refused (it would have been read as false)", async () => {
    const error = await refused((model) =>
      embed({ model, input: 'a', strict: 'true' as unknown as boolean }),
    );
    expect(error.argument).toBe('strict');
  });
});

describe('callbacks', () => {
  it.each([
    ['onProgress', true],
    ['onRetry', 1],
    ['onWait', 'x'],
    ['onWarning', {}],
  ])('%s that is not a function is refused before the first call', async (name, value) => {
    const error = await refused((model) => embedMany({ model, inputs: ['a'], [name]: value }));
    expect(error.argument).toBe(name);
    expect(error.message).toMatch(new RegExp(`^${name} must be a function, got `));
  });
});

describe('token counters', () => {
  it.each([[Number.NaN], [-1], ['3'], [Number.POSITIVE_INFINITY], [undefined]])(
    'a count of %s is refused (it would have packed every input into one call)',
    async (count) => {
      const error = await refused((model) =>
        embedMany({
          model,
          inputs: ['a', 'b'],
          tokenCounter: { exact: false, count: () => count as unknown as number },
        }),
      );
      expect(error.argument).toBe('tokenCounter');
      expect(error.message).toMatch(
        /^tokenCounter\.count returned .*; it must return a number of tokens, 0 or more\.$/,
      );
    },
  );

  it('fractional counts are kept, and pack calls by their sum', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: 5 } });
    await embedMany({
      model,
      inputs: ['a', 'b', 'c', 'd'],
      concurrency: 1,
      tokenCounter: { exact: false, count: () => 2.5 },
    });
    expect(model.calls.map((call) => call.inputs)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });
});

describe("a model's declared limits", () => {
  it.each([[Number.NaN], [0], [1.5], [-4]])(
    'maxInputsPerCall %s is refused before packing',
    async (limit) => {
      const model = new ScriptedModel({ capabilities: { maxInputsPerCall: limit as unknown as number } });
      const error = await refused((scripted) => embedMany({ model: scripted, inputs: ['a', 'b'] }), model);
      expect(error.argument).toBe('model.capabilities.maxInputsPerCall');
      expect(error.message).toBe(
        `The scripted model scripted-1's capabilities.maxInputsPerCall is ${String(limit)}; a limit must be a whole number of at least 1. Check the capabilities the model was given.`,
      );
    },
  );

  it('maxTokensPerCall NaN is refused', async () => {
    const model = new ScriptedModel({ capabilities: { maxTokensPerCall: Number.NaN } });
    const error = await refused((scripted) => embedMany({ model: scripted, inputs: ['a'] }), model);
    expect(error.message).toMatch(/^The scripted model scripted-1's capabilities.maxTokensPerCall is NaN;/);
  });
});

describe('the model id', () => {
  it.each([[''], ['  '], [undefined]])('a model with id %j is refused before any call', async (modelId) => {
    const model = new ScriptedModel({ provider: 'acme' });
    (model as { modelId: unknown }).modelId = modelId;
    const error = await refused((scripted) => embedMany({ model: scripted, inputs: ['a'] }), model);
    expect(error.argument).toBe('model');
    expect(error.message).toBe(
      `The acme model has no model id (got ${modelId === undefined ? 'undefined' : JSON.stringify(modelId)}); name one when you create it, e.g. provider.embedding('model-name').`,
    );
  });
});

describe('the call itself', () => {
  it.each([
    ['embed()', () => embed(undefined as never), 'embed({ model, input })', 'undefined'],
    ['embedMany(null)', () => embedMany(null as never), 'embedMany({ model, inputs })', 'null'],
    ['rerank([])', () => rerank([] as never), 'rerank({ model, query, documents })', 'an array'],
    [
      "embedContextualized('x')",
      () => embedContextualized('x' as never),
      'embedContextualized({ model, documents })',
      '"x"',
    ],
  ])('%s is an InvalidArgumentError showing the form (it was a TypeError)', async (_call, run, form, got) => {
    const error = await run().catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).message).toBe(
      `Call it with one settings object, ${form}; got ${got}.`,
    );
  });

  it('embed with inputs, and embedMany with input, say which call takes which', async () => {
    const wrongEmbed = await refused((model) =>
      embed({ model, inputs: ['a'] } as unknown as Parameters<typeof embed>[0]),
    );
    expect(wrongEmbed.message).toBe(
      'embed has no setting inputs: it takes one input, as input; for an array of inputs, call embedMany({ model, inputs }).',
    );
    const wrongMany = await refused((model) =>
      embedMany({ model, input: 'a' } as unknown as Parameters<typeof embedMany>[0]),
    );
    expect(wrongMany.message).toBe(
      'embedMany has no setting input: it takes an array of inputs, as inputs; for one input, call embed({ model, input }).',
    );
  });

  it("an input type no model has ('querry') is an error even without strict; one this model lacks stays a warning", async () => {
    const typo = await refused((model) => embed({ model, input: 'a', inputType: 'querry' as never }));
    expect(typo.argument).toBe('inputType');
    expect(typo.message).toMatch(/^inputType must be one of query, document, .*; got "querry"\.$/);
    const model = new ScriptedModel({ capabilities: { inputTypes: ['query'] } });
    const result = await embed({ model, input: 'a', inputType: 'clustering' });
    expect(result.warnings.map((warning) => warning.setting)).toEqual(['inputType']);
  });
});

describe('dimensions of the wrong type', () => {
  it("'256' says the type is wrong, not that 256 is out of range", async () => {
    const model = new ScriptedModel({ capabilities: { dimensions: { min: 1, max: 1536 } } });
    const error = await refused(
      (scripted) => embed({ model: scripted, input: 'a', dimensions: '256' as unknown as number }),
      model,
    );
    expect(error.message).toBe('dimensions must be a number, got "256"; use 1 to 1536.');
  });
});

describe('headers', () => {
  it.each([
    [
      'a line break in a value',
      { 'x-trace': `v\r\nauthorization: Bearer ${SECRET}` },
      'headers.x-trace',
      /has a value for header "x-trace" that holds a line break/,
    ],
    [
      'a NUL in a value',
      { 'x-trace': `a\u0000${SECRET}` },
      'headers.x-trace',
      /has a value for header "x-trace"/,
    ],
    ['a character past Latin-1', { 'x-user': `${SECRET}€` }, 'headers.x-user', /beyond Latin-1/],
    [
      'a space in a name',
      { [`x trace ${SECRET}`]: 'v' },
      'headers',
      /has a header name HTTP does not allow \(the name at position 1\)/,
    ],
    [
      'a colon in a name',
      { ok: 'v', [`authorization: Bearer ${SECRET}`]: 'v' },
      'headers',
      /\(the name at position 2\)/,
    ],
    [
      'a number as a value',
      { 'x-count': 3 },
      'headers.x-count',
      /has a number value for header "x-count"; header values are strings/,
    ],
  ])(
    '%s is an InvalidArgumentError before any call, naming no value',
    async (_what, headers, argument, message) => {
      const error = await refused((model) =>
        embedMany({ model, inputs: ['a'], headers: headers as unknown as Record<string, string> }),
      );
      expect(error.argument).toBe(argument);
      expect(error.message).toMatch(/^headers /);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(SECRET);
    },
  );

  it('a Headers object (which would spread to nothing) is refused', async () => {
    const error = await refused((model) =>
      embed({ model, input: 'a', headers: new Headers({ 'x-a': '1' }) as unknown as Record<string, string> }),
    );
    expect(error.message).toBe(
      "headers must be a plain object of header names to string values, like { 'x-trace-id': 'a1' }.",
    );
  });

  it('valid headers, tabs and Latin-1 included, reach the call as they were', async () => {
    const model = new ScriptedModel();
    const headers = { 'x-trace_id.1': 'a\tb', "x-!#$%&'*+-.^_`|~": 'caf\u00e9' };
    await embed({ model, input: 'a', headers });
    expect(model.calls[0]!.request.headers).toEqual(headers);
  });

  it('checkHeaders names the provider when it has one', () => {
    expect(() => checkHeaders({ 'x-a': 'b\n' }, 'the headers setting', 'acme')).toThrow(
      'acme: the headers setting has a value for header "x-a" that holds a line break, a control character or a character beyond Latin-1, which HTTP cannot carry.',
    );
  });
});

describe('requestJson: what every request passes', () => {
  it("a provider's header HTTP cannot carry is refused without a request (it used to be a retried ConnectionError)", async () => {
    const { fetch, sent } = recordingFetch(() => new Response('{}'));
    const error = await requestJson({
      transport: createFetchTransport(fetch),
      provider: 'acme',
      url: URL_BASE,
      body: {},
      headers: { authorization: `Bearer ${SECRET}`, 'x-tenant': 'a\r\nb' },
    }).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).message).toBe(
      'acme: the headers setting has a value for header "x-tenant" that holds a line break, a control character or a character beyond Latin-1, which HTTP cannot carry.',
    );
    expect((error as InvalidArgumentError).provider).toBe('acme');
    expect(sent).toHaveLength(0);
  });

  it.each([
    [-1, '-1'],
    [0, '0'],
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    ['1k', '"1k"'],
  ])(
    'maxResponseBytes %s is refused without a request (NaN and strings used to switch the cap off)',
    async (limit, shown) => {
      const { fetch, sent } = recordingFetch(() => new Response('{}'));
      const error = await requestJson({
        transport: createFetchTransport(fetch),
        provider: 'acme',
        url: URL_BASE,
        maxResponseBytes: limit as unknown as number,
      }).catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe('maxResponseBytes');
      expect((error as InvalidArgumentError).message).toBe(
        `acme: maxResponseBytes must be a whole number of bytes above 0, got ${shown}.`,
      );
      expect(sent).toHaveLength(0);
    },
  );
});
