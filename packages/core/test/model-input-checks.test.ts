/**
 * A model's own rules on inputs (`checkInput`) run over the whole job before its first call: run call by
 * call inside `doEmbed`, they failed a job after its first calls were sent (and paid for), and named the
 * input by its place in its call.
 */
import { describe, expect, it } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { InvalidArgumentError } from '../src/errors.js';
import { wrapEmbeddingModel } from '../src/middleware.js';
import type { EmbedInput, InputCheckSettings } from '../src/types.js';
import { numberedInputs, ScriptedModel } from './helpers.js';

/** A model that refuses the input "bad", and records what it was asked to check. */
function pickyModel() {
  const checked: [EmbedInput, number, InputCheckSettings][] = [];
  const model = Object.assign(new ScriptedModel({ capabilities: { maxInputsPerCall: 2 } }), {
    checkInput(input: EmbedInput, index: number, settings: InputCheckSettings) {
      checked.push([input, index, settings]);
      if (input === 'bad')
        throw new InvalidArgumentError(`inputs[${index}] is bad.`, { argument: `inputs[${index}]` });
    },
  });
  return { model, checked };
}

describe('a model’s own input checks', () => {
  it('run over every input of embedMany before its first call, with the job’s index and settings', async () => {
    const { model, checked } = pickyModel();
    const error = await embedMany({
      model,
      inputs: ['0', '1', '2', '3', 'bad'],
      inputType: 'query',
      providerOptions: { scripted: { flag: true } },
    }).catch((caught) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('inputs[4]');
    expect(model.calls).toHaveLength(0);
    expect(checked.map(([input, index]) => [input, index])).toEqual([
      ['0', 0],
      ['1', 1],
      ['2', 2],
      ['3', 3],
      ['bad', 4],
    ]);
    expect(checked[0]![2]).toEqual({
      outputType: 'float',
      inputType: 'query',
      providerOptions: { scripted: { flag: true } },
    });
  });

  it('run in embedStream before the call that carries the input', async () => {
    const { model } = pickyModel();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const item of embedStream({ model, inputs: ['0', '1', '2', 'bad'], flushAfterMs: 60_000 }))
        seen.push(String(item.index));
    })().catch((caught) => caught);
    expect((error as InvalidArgumentError).argument).toBe('inputs[3]');
    // The inputs read before it went out (a stream embeds what it has read); 'bad' was never sent.
    expect(model.callInputs).toEqual([['0', '1'], ['2']]);
  });

  it('are kept by a model wrapped in middleware', async () => {
    const { model, checked } = pickyModel();
    const wrapped = wrapEmbeddingModel(model, [{ transformRequest: ({ request }) => request }]);
    await expect(embedMany({ model: wrapped, inputs: [...numberedInputs(3), 'bad'] })).rejects.toMatchObject({
      argument: 'inputs[3]',
    });
    expect(checked).toHaveLength(4);
    expect(model.calls).toHaveLength(0);
  });
});

describe('a model’s call groups', () => {
  /** Inputs "u…" and "b…" are of two groups that no call may mix; any other input is of none. */
  function groupedModel() {
    return Object.assign(new ScriptedModel({ capabilities: { maxInputsPerCall: 3 } }), {
      callGroup: (input: EmbedInput) =>
        typeof input === 'string' && (input[0] === 'u' || input[0] === 'b') ? input[0] : undefined,
    });
  }

  it('never share a call: a call ends where the group changes, and an input of no group goes with any', async () => {
    const model = groupedModel();
    await embedMany({ model, inputs: ['u1', 't1', 'u2', 'b1', 't2', 'u3', 'u4', 'u5', 'u6'] });
    expect(model.callInputs).toEqual([['u1', 't1', 'u2'], ['b1', 't2'], ['u3', 'u4', 'u5'], ['u6']]);
  });

  it('are kept by a model wrapped in middleware', async () => {
    const model = groupedModel();
    await embedMany({
      model: wrapEmbeddingModel(model, [{ transformRequest: ({ request }) => request }]),
      inputs: ['u1', 'b1'],
    });
    expect(model.callInputs).toEqual([['u1'], ['b1']]);
  });
});

describe('a model’s hooks', () => {
  it.each(['checkInput', 'callGroup'])(
    'a model whose %s is not a function is refused before any call',
    async (name) => {
      const model = Object.assign(new ScriptedModel(), { [name]: 'strict' });
      await expect(embedMany({ model: model as never, inputs: ['a'] })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        argument: `model.${name}`,
      });
      expect(model.calls).toHaveLength(0);
    },
  );
});
