/**
 * Two things a wire or a group decides: a wire that only answers JSON floats (no `encodingOf`) still
 * gets the NaN-literal and float-overflow answers, and each group's custom-headers scenario tells a
 * provider author which header a request left off, and where.
 */
import { describe, expect, it } from 'vitest';
import { mutants } from '../mutants/index.js';
import { acmeWire, createAcmeModel } from '../mutants/reference-provider.js';
import { runScenarios } from '../src/describe.js';
import { listEmbeddingScenarios } from '../src/scenarios.js';
import type { WireProfile } from '../src/types.js';
import { GROUPS } from './mutant-suites.js';

/** The Acme wire, unable to say which encoding a request asks, always answering in `encoding`. */
function acmeAnswering(encoding: 'float' | 'base64'): WireProfile {
  const { encodingOf: _unknown, ...wire } = acmeWire;
  return { ...wire, successBody: (request) => acmeWire.successBody({ ...request, encoding }) };
}

const FLOAT_ANSWERS = ['answer-nan-literal', 'answer-infinity-float'];

const listed = (wire: WireProfile, createModel = createAcmeModel) =>
  listEmbeddingScenarios({
    name: 'acme',
    baseURL: 'https://api.acme.test/v1',
    modelId: 'acme-embed-1',
    createModel,
    wire,
  });

const mutant = (name: string) => {
  const found = mutants.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no mutant ${name}`);
  return found;
};

/** The failure message of scenario `id` of a mutant's group, through undici. */
async function failureOf(name: string, id: string): Promise<string> {
  const broken = mutant(name);
  const scenario = GROUPS[broken.suite].list(broken.create).scenarios.find((each) => each.id === id);
  if (scenario === undefined) throw new Error(`no scenario ${id}`);
  const [outcome] = await runScenarios([scenario], { kinds: ['undici'] });
  expect(outcome!.passed).toBe(false);
  return (outcome!.error as Error).message;
}

describe('a wire that only answers JSON floats', () => {
  it('gets the NaN-literal and float-overflow answers, which the reference refuses', async () => {
    const { scenarios, families } = listed(acmeAnswering('float'));
    const chosen = scenarios.filter((scenario) => FLOAT_ANSWERS.includes(scenario.id));
    expect(chosen.map((scenario) => scenario.id)).toEqual(FLOAT_ANSWERS);
    const report = families.find((family) => family.family === 'malformed-answers')!;
    expect(report.skippedCases.map((skipped) => skipped.id)).toEqual([
      'answer-nan-base64',
      'answer-infinity-base64',
      'answer-partial-bytes',
      'answer-extra-bytes',
      'answer-in-the-other-encoding',
    ]);
    const outcomes = await runScenarios(chosen);
    expect(outcomes.map((outcome) => [outcome.id, outcome.kind, outcome.passed])).toEqual([
      ['answer-nan-literal', 'undici', true],
      ['answer-nan-literal', 'fetch', true],
      ['answer-infinity-float', 'undici', true],
      ['answer-infinity-float', 'fetch', true],
    ]);
  }, 30_000);

  it('rejects a provider that retries a NaN literal and one that zeroes an overflowed float', async () => {
    const wire = acmeAnswering('float');
    const [nan] = listed(wire, mutant('retries-cut-off-json').create as never).scenarios.filter(
      (scenario) => scenario.id === 'answer-nan-literal',
    );
    const [overflow] = listed(wire, mutant('zeroes-non-finite').create as never).scenarios.filter(
      (scenario) => scenario.id === 'answer-infinity-float',
    );
    const outcomes = await runScenarios([nan!, overflow!], { kinds: ['undici'] });
    expect(outcomes.map((outcome) => [outcome.id, outcome.passed])).toEqual([
      ['answer-nan-literal', false],
      ['answer-infinity-float', false],
    ]);
  }, 30_000);

  it('leaves them out, with the reason, for a wire that answers base64 and cannot say so', () => {
    const { scenarios, families } = listed(acmeAnswering('base64'));
    expect(scenarios.filter((scenario) => FLOAT_ANSWERS.includes(scenario.id))).toEqual([]);
    const report = families.find((family) => family.family === 'malformed-answers')!;
    expect(report.skippedCases.filter((skipped) => FLOAT_ANSWERS.includes(skipped.id))).toEqual(
      FLOAT_ANSWERS.map((id) => ({
        id,
        reason:
          'the wire profile cannot read the encoding a request asks (encodingOf), and its successBody writes no JSON float vectors',
      })),
    );
  });
});

describe('the custom-headers scenario of each group', () => {
  it('names the header of the provider setting a contextualized request left off', async () => {
    expect(await failureOf('ctx-drops-settings-headers', 'ctx-custom-headers')).toMatch(
      /^the contextualized request did not carry `x-provider-header: from-settings`, given in the provider's `headers` setting: the provider must send the headers it was created with on every request \(this scenario catches: [^\n]*\)\n/,
    );
  });

  it("names the call's header a rerank request left off", async () => {
    expect(await failureOf('rerank-drops-call-headers', 'rerank-custom-headers')).toMatch(
      /^the rerank request did not carry `x-call-header: per-call`, given in the call's own `headers`: the provider must send a call's headers with its request \(this scenario catches: [^\n]*\)\n/,
    );
  });

  it('names the batch operation and the request that left a header off', async () => {
    expect(await failureOf('batch-drops-headers', 'custom-headers')).toMatch(
      /^the create request \(POST \/v1\/batches\) did not carry `x-provider-header: from-settings`, given in the provider's `headers` setting: the provider must send the headers it was created with on every request \(this scenario catches: [^\n]*\)\n/,
    );
  });
});
