/**
 * A model that states no vector length (an OpenAI-compatible server, an unknown model id) is held to the
 * length of its first answer for the rest of the job: each call's vectors were checked only against each
 * other, so a server whose model changed between calls gave one result of two lengths.
 */
import { describe, expect, it } from 'vitest';
import { embedMany, embedStream } from '../src/engine/embed.js';
import { InvalidResponseError } from '../src/errors.js';
import { numberedInputs, ScriptedModel } from './helpers.js';

/** No stated length; calls from the third on answer vectors of three values instead of two. */
function changingModel() {
  return new ScriptedModel({
    capabilities: { defaultDimensions: undefined, maxInputsPerCall: 2, supportsParallelCalls: false },
    respond: (call) => ({
      embeddings: call.inputs.map((input) =>
        call.number < 3 ? Float32Array.of(Number(input), 1) : Float32Array.of(Number(input), 1, 2),
      ),
      warnings: [],
      response: { status: 200, headers: {} },
    }),
  });
}

const MESSAGE =
  'scripted returned vector 0 (input 4 of the whole job) with 3 values; expected 2, the length of the vectors it returned earlier in this job.';

describe('vectors of one job have one length, when the model states none', () => {
  it('embedMany refuses a later call whose vectors are longer than the first call’s', async () => {
    const model = changingModel();
    const error = await embedMany({ model, inputs: numberedInputs(8), maxRetries: 0 }).catch(
      (caught) => caught,
    );
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(MESSAGE);
    expect(model.calls).toHaveLength(3);
  });

  it('embedStream refuses it the same way', async () => {
    const model = changingModel();
    const seen: number[] = [];
    const error = await (async () => {
      for await (const item of embedStream({ model, inputs: numberedInputs(8), maxRetries: 0 }))
        seen.push(item.embedding.length);
    })().catch((caught) => caught);
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(MESSAGE);
    expect(seen).toEqual([2, 2, 2, 2]);
  });

  it('a model that keeps one length throughout is unaffected, and a stated length still names dimensions', async () => {
    const steady = new ScriptedModel({ capabilities: { defaultDimensions: undefined, maxInputsPerCall: 2 } });
    const result = await embedMany({ model: steady, inputs: numberedInputs(8) });
    expect(result.embeddings.map((vector) => vector.length)).toEqual(Array(8).fill(2));
    const stated = changingModel();
    Object.assign(stated.capabilities, { defaultDimensions: 2 });
    const error = await embedMany({ model: stated, inputs: numberedInputs(8), maxRetries: 0 }).catch(
      (caught) => caught,
    );
    expect((error as Error).message).toBe(
      'scripted returned vector 0 (input 4 of the whole job) with 3 values; expected 2.',
    );
  });
});
