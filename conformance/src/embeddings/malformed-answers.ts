/**
 * Every malformed answer, each refused as an `InvalidResponseError` and not retried: wrong counts,
 * duplicate or missing indices, wrong lengths per output type, partial and extra bytes, NaN and Infinity
 * as JSON and as base64. And the one odd answer that is fine: floats where base64 was asked.
 */
import { strict as assert } from 'node:assert';
import { embedMany, type OutputType } from '@embedkit/core';
import type { Harness } from '../harness.js';
import {
  base64WithExtraBytes,
  markFloat,
  replaceBase64,
  replaceMarker,
  valuesFor,
  writesJsonFloats,
} from '../suite/answers.js';
import { rejection, requestIdSentIn } from '../suite/checks.js';
import { type Case, check, type Family, type SkippedCase, skip } from '../suite/family.js';
import { budgetBinds, type EmbeddingAnswer, type EmbeddingSuite, SUCCESS_REQUEST_ID } from './suite.js';

/** Positions 0..count-1 with `replace` applied. */
const positions = (count: number, replace: (order: number[]) => void) => {
  const order = Array.from({ length: count }, (_, index) => index);
  replace(order);
  return order;
};

export const malformedAnswers: Family<EmbeddingSuite, Harness> = {
  name: 'malformed-answers',
  checks:
    'wrong counts, bad indices, wrong lengths per type, partial/extra bytes, NaN and Infinity refused; floats for base64 accepted',
  cases: (suite) => {
    const { wire, capabilities } = suite;
    // Each answer is to one call of up to three inputs.
    const count = Math.min(3, suite.cap);
    const oneCall = (id: string, make: (texts: string[]) => Case<Harness>) => {
      const texts = suite.inputsByCount(count, id);
      return texts === undefined ? skip(id, budgetBinds(suite, count)) : make(texts);
    };
    const broken = (
      id: string,
      catches: string,
      answer: EmbeddingAnswer,
      outputType: OutputType = 'float',
    ): Case<Harness> | SkippedCase =>
      oneCall(id, (texts) =>
        check(id, catches, async (world) => {
          world.respond(texts.length, suite.success(answer));
          const error = await rejection(
            embedMany({
              ...suite.settings(world),
              inputs: texts,
              ...(outputType === 'float' ? {} : { outputType }),
            }),
          );
          assert.equal(error.name, 'InvalidResponseError', `${id}: ${error.name}: ${error.message}`);
          assert.equal(world.interceptor.requests.length, 1, 'not retried');
          // The error names the answer it is about, as the API's errors do: what a support request needs.
          if (wire.requestIdHeader !== undefined)
            assert.equal(
              error.requestId,
              SUCCESS_REQUEST_ID,
              `${id}: the error carries ${requestIdSentIn(wire.requestIdHeader)}`,
            );
        }),
      );
    const indexed = (id: string, make: () => Case<Harness> | SkippedCase) =>
      wire.indexedAnswers === true
        ? make()
        : skip(id, 'the wire profile does not declare indexed answers (indexedAnswers)');
    const encoded = (id: string, make: () => Case<Harness> | SkippedCase) =>
      wire.encodingOf === undefined
        ? skip(id, 'the wire profile cannot read the encoding a request asks (encodingOf)')
        : make();
    // JSON float answers need no encodingOf when the wire writes nothing else: a JSON-float-only wire.
    const floats = (id: string, make: () => Case<Harness> | SkippedCase) =>
      wire.encodingOf !== undefined || writesJsonFloats((request) => wire.successBody(request))
        ? make()
        : skip(
            id,
            'the wire profile cannot read the encoding a request asks (encodingOf), and its successBody writes no JSON float vectors',
          );

    const cases: (Case<Harness> | SkippedCase)[] = [
      broken('wrong-vector-count', 'a vector missing from the answer', {
        mutate: (vectors) => void vectors.pop(),
      }),
      broken('answer-extra-vector', 'a vector more than inputs accepted', {
        mutate: (vectors) => void vectors.push(vectors[0]!.slice()),
      }),
      broken('wrong-dimension', 'a vector one value short accepted', {
        mutate: (vectors) => void vectors[vectors.length - 1]!.pop(),
      }),
      broken('answer-vector-too-long', 'a vector one value long accepted (or cut to length)', {
        mutate: (vectors) => void vectors[0]!.push(0.5),
      }),
      broken('nan-in-vector', 'a NaN (null on a JSON wire) accepted as a value', {
        mutate: (vectors) => {
          vectors[0]![1] = Number.NaN;
        },
      }),
      indexed('answer-duplicate-index', () =>
        broken('answer-duplicate-index', 'an index given twice (and one missing) accepted', {
          order: (count) =>
            positions(count, (order) => {
              order[1] = 0;
            }),
        }),
      ),
      indexed('answer-index-out-of-range', () =>
        broken('answer-index-out-of-range', 'an index past the inputs accepted, or crashing', {
          mutate: (vectors) => void vectors.push(vectors[0]!.slice()),
          order: (count) => positions(count, (order) => void order.splice(count - 2, 1)),
        }),
      ),
      floats('answer-nan-literal', () =>
        broken('answer-nan-literal', "a NaN literal (Python's JSON) not refused as broken JSON", {
          encoding: 'float',
          mutate: (vectors) => markFloat(vectors[0]!),
          rewrite: (text) => replaceMarker(text, 'NaN'),
        }),
      ),
      floats('answer-infinity-float', () =>
        broken('answer-infinity-float', 'a JSON number that overflows float32 to Infinity accepted', {
          encoding: 'float',
          mutate: (vectors) => markFloat(vectors[0]!),
          rewrite: (text) => replaceMarker(text, '1e39'),
        }),
      ),
      encoded('answer-nan-base64', () =>
        broken('answer-nan-base64', 'NaN bytes in a base64 vector accepted', {
          encoding: 'base64',
          mutate: (vectors) => {
            vectors[0]![2] = Number.NaN;
          },
        }),
      ),
      encoded('answer-infinity-base64', () =>
        broken('answer-infinity-base64', 'Infinity bytes in a base64 vector accepted', {
          encoding: 'base64',
          mutate: (vectors) => {
            vectors[0]![2] = Number.NEGATIVE_INFINITY;
          },
        }),
      ),
      encoded('answer-partial-bytes', () =>
        broken(
          'answer-partial-bytes',
          'base64 whose bytes end mid-value decoded with the partial value dropped',
          {
            encoding: 'base64',
            rewrite: (text, vectors) =>
              replaceBase64(text, vectors[0]!, base64WithExtraBytes(vectors[0]!, 2)),
          },
        ),
      ),
      encoded('answer-extra-bytes', () =>
        broken('answer-extra-bytes', 'base64 with a value too many accepted (or cut to length)', {
          encoding: 'base64',
          rewrite: (text, vectors) => replaceBase64(text, vectors[0]!, base64WithExtraBytes(vectors[0]!, 4)),
        }),
      ),
      encoded('answer-in-the-other-encoding', () =>
        oneCall('answer-in-the-other-encoding', (texts) =>
          check(
            'answer-in-the-other-encoding',
            'floats refused where base64 was asked (servers that ignore the encoding), or base64 crashing a float decoder',
            async (world) => {
              let asked: string | undefined;
              world.respond(texts.length, (request) => {
                asked = wire.encodingOf!(request.body);
                return suite.success({ encoding: asked === 'base64' ? 'float' : 'base64' })(request);
              });
              const outcome = await embedMany({ ...suite.settings(world), inputs: texts }).then(
                (result) => ({ result }),
                (error: Error) => ({ error }),
              );
              if ('result' in outcome) {
                suite.expectVectors(outcome.result, texts);
                return;
              }
              // Base64 where floats were asked may be refused, as a typed error; floats where base64 was asked may not.
              assert.equal(
                asked,
                'float',
                `floats where base64 was asked must be accepted: ${outcome.error.message}`,
              );
              assert.equal(
                outcome.error.name,
                'InvalidResponseError',
                `${outcome.error.name}: ${outcome.error.message}`,
              );
            },
          ),
        ),
      ),
    ];
    if (wire.outputTypeOf !== undefined) {
      for (const outputType of capabilities.outputTypes.filter((type) => type !== 'float')) {
        cases.push(
          broken(
            `answer-wrong-length-${outputType}`,
            `a ${outputType} vector a byte too long accepted`,
            { mutate: (vectors) => void vectors[0]!.push(valuesFor('x', 8, outputType)[0]!) },
            outputType,
          ),
        );
      }
    }
    return cases;
  },
};
