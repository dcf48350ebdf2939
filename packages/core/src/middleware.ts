import { describeValue } from './argument-checks.js';
import { answerSource, checkAnswer } from './engine/checks.js';
import { defaultLimiter } from './engine/limiter.js';
import type { Admission } from './engine/retry.js';
import { InvalidArgumentError } from './errors.js';
import { closestName } from './setting-names.js';
import type { EmbeddingModel, EmbedInput, EmbedRequest, EmbedResponse, ProviderOptions } from './types.js';

/** Changes how a model is called without changing the model. */
export interface EmbeddingModelMiddleware {
  /** Rewrites each request before it reaches the model. */
  transformRequest?(options: {
    request: EmbedRequest;
    model: EmbeddingModel;
  }): EmbedRequest | Promise<EmbedRequest>;
  /** Wraps each call; call `doEmbed` to reach the model (or the next middleware). */
  wrapEmbed?(options: {
    doEmbed: (request: EmbedRequest) => Promise<EmbedResponse>;
    request: EmbedRequest;
    model: EmbeddingModel;
  }): Promise<EmbedResponse>;
}

const HOOKS = ['transformRequest', 'wrapEmbed'] as const;

/**
 * A middleware's hooks must be functions, and one whose functions are all under other names
 * (`wrapEmbedd`, `wrapEmbedding`) would wrap the model and do nothing: refused. Its other fields are its
 * own state and are left alone; `{}`, and hooks written out as `undefined`, do nothing on purpose
 * (`cache ? cacheMiddleware() : {}`).
 */
function checkMiddleware(layer: unknown, where: string): void {
  const candidate = layer as Partial<Record<(typeof HOOKS)[number], unknown>> | null;
  if (typeof candidate !== 'object' || candidate === null) {
    throw new InvalidArgumentError(`${where} must be an object with transformRequest or wrapEmbed.`, {
      argument: 'middleware',
    });
  }
  for (const hook of HOOKS) {
    if (candidate[hook] !== undefined && typeof candidate[hook] !== 'function') {
      throw new InvalidArgumentError(`${where}.${hook} must be a function.`, { argument: 'middleware' });
    }
  }
  if (HOOKS.some((hook) => candidate[hook] !== undefined)) return;
  // No hook: a function under another name was meant as one (a typo, or another library's name).
  const values = candidate as Record<string, unknown>;
  const functions = Object.keys(values).filter((name) => typeof values[name] === 'function');
  if (functions.length > 0) {
    const typo = functions.map((name) => [name, closestName(name, HOOKS)] as const).find(([, hook]) => hook);
    throw new InvalidArgumentError(
      `${where} has neither transformRequest nor wrapEmbed, so it would do nothing; ${typo === undefined ? `${functions.join(', ')} ${functions.length === 1 ? 'is not a hook' : 'are not hooks'}` : `did you mean ${typo[1]} for ${typo[0]}?`}`,
      { argument: 'middleware' },
    );
  }
}

/**
 * A model that runs every call through `middleware` (the first in a list is the outermost). The wrapped
 * model keeps the provider, id, capabilities, limiter and custom base URL of the original, and the type of
 * its `providerOptions` (`P`): a call given the wrapped model checks its options as one given the original.
 */
export function wrapEmbeddingModel<P extends object = ProviderOptions>(
  model: EmbeddingModel<P>,
  middleware: EmbeddingModelMiddleware | readonly EmbeddingModelMiddleware[],
): EmbeddingModel<P>;
// Middleware is written against the contract, whose requests take any provider's options, so the layers
// are handed the model and the request, built from options typed `P`, as the contract types them.
export function wrapEmbeddingModel(
  model: EmbeddingModel,
  middleware: EmbeddingModelMiddleware | readonly EmbeddingModelMiddleware[],
): EmbeddingModel {
  const layers = (Array.isArray(middleware) ? [...middleware] : [middleware as EmbeddingModelMiddleware]).map(
    (layer: EmbeddingModelMiddleware, index) => {
      const where = Array.isArray(middleware) ? `middleware[${index}]` : 'middleware';
      checkMiddleware(layer, where);
      return { layer, where };
    },
  );
  layers.reverse();
  /**
   * The layers around the model, innermost last. `admit`, when given, is called right before the model
   * is: a call that a layer answers by itself (a cache holding every input) is never admitted.
   */
  const chain = (admit: Admission | undefined, tokensOf: TokensOf | undefined) => {
    const inner = admittedEmbed(model);
    /** Whether a request of this call went to the model already: one admission covers one request. */
    let admitted = false;
    let doEmbed = async (request: EmbedRequest): Promise<EmbedResponse> => {
      // A middleware that calls the model again within one call (the cache, sending again an entry it
      // held that proved stale) sends a request of its own, so it is admitted by the limiter on its own.
      if (admitted && admit?.again !== undefined) {
        return admit.again(
          async () => {
            const response = await (inner !== undefined ? inner(request, undefined) : model.doEmbed(request));
            // Its usage settles the limiter's token budget, so the answer is checked before, as the engine
            // checks a call's own: a count that is NaN, negative or fractional would corrupt the budget, and
            // warnings that are not a list would be spread into the call's.
            checkAnswer(answerSource(model.provider, response?.response), response ?? {});
            return response;
          },
          (response) => ({
            reportedTokens: response.usage?.inputTokens,
            headers: response.response?.headers ?? {},
          }),
          tokensOf?.(request.inputs),
        );
      }
      admitted = true;
      // A wrapped model admits its own calls, at its innermost layer.
      if (inner !== undefined) return inner(request, admit, tokensOf);
      if (admit !== undefined) {
        // Each request is charged the estimate of the inputs it sends, not the call's: a cache that
        // holds most of a call sends only its misses, and a budget charged for the rest throttled the job
        // as if nothing were held.
        await admit(tokensOf?.(request.inputs));
        // An abort in the moment since admission sends nothing.
        if (request.signal?.aborted) throw request.signal.reason;
        admit.sending();
      }
      return model.doEmbed(request);
    };
    for (const { layer, where } of layers) {
      const next = doEmbed;
      doEmbed = async (request: EmbedRequest) => {
        const transformed =
          layer.transformRequest === undefined
            ? request
            : checkTransformed(await layer.transformRequest({ request, model }), where);
        return layer.wrapEmbed === undefined
          ? next(transformed)
          : layer.wrapEmbed({ doEmbed: next, request: transformed, model });
      };
    }
    return doEmbed;
  };
  const direct = chain(undefined, undefined);
  const wrapped: EmbeddingModel = {
    specificationVersion: 'v1',
    provider: model.provider,
    modelId: model.modelId,
    capabilities: model.capabilities,
    doEmbed: direct,
  };
  if (model.customBaseURL !== undefined) wrapped.customBaseURL = () => model.customBaseURL?.();
  if (model.checkInput !== undefined)
    wrapped.checkInput = (input, index, settings) => model.checkInput?.(input, index, settings);
  if (model.callGroup !== undefined)
    wrapped.callGroup = (input, settings) => model.callGroup?.(input, settings);
  admittedCalls.set(direct, (request, admit, tokensOf) => chain(admit, tokensOf)(request));
  // The wrapped model draws on the original's limiter, so both share one budget and one 429 pause.
  return { ...wrapped, rateLimiter: model.rateLimiter ?? defaultLimiter(model) };
}

/**
 * What a `transformRequest` hook returned, which must be a request: one that forgot to return it (a hook
 * that changes the request in place and returns nothing) would reach the model as `undefined` and fail
 * there as a bare TypeError that names neither the middleware nor the hook.
 */
function checkTransformed(request: unknown, where: string): EmbedRequest {
  const inputs = (request as { inputs?: unknown } | null)?.inputs;
  if (typeof request !== 'object' || request === null || !Array.isArray(inputs)) {
    throw new InvalidArgumentError(
      `${where}.transformRequest must return the request (an object with inputs), got ${describeValue(request)}.`,
      { argument: 'middleware' },
    );
  }
  return request as EmbedRequest;
}

/** The token estimate of the inputs a request sends, as the job's token counter counts them. */
type TokensOf = (inputs: readonly EmbedInput[]) => number;

type AdmittedEmbed = (
  request: EmbedRequest,
  admit: Admission | undefined,
  tokensOf?: TokensOf | undefined,
) => Promise<EmbedResponse>;

/**
 * Each wrapped model's call that admits to the limiter late, by its `doEmbed`: an object that replaces
 * `doEmbed` (a proxy, a derived object) has its own `doEmbed` called, admitted before, as any model's.
 */
const admittedCalls = new WeakMap<EmbeddingModel['doEmbed'], AdmittedEmbed>();

/**
 * A wrapped model's call that takes the limiter's admission and asks for it right before the request
 * leaves (so a call a cache answers whole neither waits for a budget nor spends one), or undefined for a
 * model that is not wrapped, or whose `doEmbed` was replaced.
 */
export function admittedEmbed(model: EmbeddingModel): AdmittedEmbed | undefined {
  return admittedCalls.get(model.doEmbed);
}
