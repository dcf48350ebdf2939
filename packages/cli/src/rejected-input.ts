import {
  type EmbeddingModelMiddleware,
  type EmbedInput,
  InvalidRequestError,
  RetryError,
} from '@embedkit/core';

/**
 * Remembers the inputs of each call that failed, so that a failure can be placed in the input file: the
 * engine reports which input the API named, but not which call failed when it named none. Installed as
 * the outermost middleware, it sees each call as the engine planned it (a run of consecutive inputs).
 */
export class FailedCalls {
  private readonly calls = new WeakMap<object, readonly EmbedInput[]>();

  readonly middleware: EmbeddingModelMiddleware = {
    wrapEmbed: async ({ doEmbed, request }) => {
      try {
        return await doEmbed(request);
      } catch (error) {
        if (typeof error === 'object' && error !== null) this.calls.set(error, request.inputs);
        throw error;
      }
    },
  };

  /** The inputs of the call behind `failure`, looking through retries and the engine's re-wrapping. */
  inputsOf(failure: unknown): readonly EmbedInput[] | undefined {
    let current = failure;
    for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
      const inputs = this.calls.get(current);
      if (inputs !== undefined) return inputs;
      current = RetryError.isInstance(current) ? current.lastError : (current as { cause?: unknown }).cause;
    }
    return undefined;
  }
}

/** The API refused the request as such (400, 422): sending it again would fail the same way. */
export function isRejection(error: unknown): error is InvalidRequestError {
  return InvalidRequestError.isInstance(error) && !error.isRetryable && !error.batchTooLarge;
}

/** At most how many calls {@link findRejectedInput} makes for a call of `count` inputs. */
export function maxSearchCalls(count: number): number {
  return 2 * Math.ceil(Math.log2(count));
}

/**
 * Finds the input a rejected call of several inputs held, when the API named none: sends the inputs again
 * in halves, one call each, and follows the half that is rejected until one input is rejected alone (at
 * most {@link maxSearchCalls} calls, about twice the call's tokens). The engine bisects only calls the API
 * calls too large; a plain 400 is left to the caller. Returns the input's position and the error of its
 * own call; when both halves of a rejected run go through (it failed as a whole, not for one input), the
 * positions of that run, from `start` to before `end`: the narrowest run the search saw rejected, which
 * is the whole call only when its first halves both went through; undefined when a half fails for
 * another reason (nothing is known of its inputs then).
 */
export async function findRejectedInput(
  texts: readonly string[],
  send: (texts: string[]) => Promise<void>,
): Promise<{ index: number; error: InvalidRequestError } | { start: number; end: number } | undefined> {
  const attempt = async (start: number, end: number): Promise<InvalidRequestError | 'ok' | 'other'> => {
    try {
      await send(texts.slice(start, end));
      return 'ok';
    } catch (error) {
      return isRejection(error) || (end - start === 1 && InvalidRequestError.isInstance(error))
        ? (error as InvalidRequestError)
        : 'other';
    }
  };
  let start = 0;
  let end = texts.length;
  let rejection: InvalidRequestError | undefined;
  while (end - start > 1) {
    const middle = start + Math.ceil((end - start) / 2);
    const head = await attempt(start, middle);
    if (head === 'other') return undefined;
    if (head !== 'ok') {
      end = middle;
      rejection = head;
      continue;
    }
    const tail = await attempt(middle, end);
    if (tail === 'ok') return { start, end };
    if (tail === 'other') return undefined;
    start = middle;
    rejection = tail;
  }
  return rejection === undefined ? undefined : { index: start, error: rejection };
}
