/**
 * What the families every group shares (error answers, waits, redaction, network faults) need of a
 * group: one small job whose one call they answer as they like. Each group (embeddings, contextualized,
 * rerank) provides it, so those families are written once.
 */
import type { CallSettings } from '@embedkit/core';
import { runInWorld, type World, type WorldVariant } from '../harness.js';
import type { ExpectOptions, ReplyHandler, TransportKind, WireReply } from '../interceptor.js';
import type { ErrorKind, WireBasics } from '../types.js';
import type { CallLimits, FamilyPass, ItemCost } from './family.js';

/** The settings a shared scenario may give the small job. */
export type JobSettings = Partial<
  Pick<CallSettings, 'maxRetries' | 'maxRetryDelayMs' | 'timeoutMs' | 'signal'>
>;

/** A world of the shared families: the small job, its call and its correct answer. */
export interface JobWorld extends World<unknown> {
  /** Expects the small job's next call, answered by `reply`. */
  expectCall(reply: ReplyHandler, options?: ExpectOptions): void;
  /** The correct answer to the small job's call. */
  success: ReplyHandler;
  /** Runs the small job (retries 3 unless told); resolves once it succeeded with the right result. */
  run(settings?: JobSettings): Promise<void>;
  /**
   * Once every provider call the small job made has settled, whether each read an answer (true) or
   * failed (false). The engine leaves behind a call still running a moment after its abort, so the job's
   * own end does not show whether the provider's request was aborted; with the answer held back until the
   * job has ended, this does.
   */
  callsAnswered(): Promise<boolean[]>;
}

/** A group as the shared families see it. */
export interface JobKit {
  /** Prefix of the shared scenarios' ids: '' (embeddings), 'ctx-' or 'rerank-'. */
  prefix: string;
  wire: WireBasics;
  /** The API root the provider is given in every other scenario. */
  baseURL: string;
  /** The path (and query) of the small job's call, under `baseURL`. */
  endpointPath: string;
  /** The model's method that makes the small job's call (watched for `JobWorld.callsAnswered`). */
  method: 'doEmbed' | 'doEmbedContextualized' | 'doRerank';
  /**
   * Why a retry of the small job waits for its limiter's refill besides the wait the API asked (its call
   * takes more than half the tokens a minute of the limiter the model was created with), so that the
   * families counting the job's waits cannot be built; undefined where the retry goes at once.
   */
  refillWait?: string | undefined;
}

/**
 * `JobKit.refillWait` for a group's small job of one call, the items of `costs` (by the engine's estimate,
 * as the group plans its calls), under the `tokensPerMinute` of the limiter it draws on: the call and its
 * retry must both fit the limiter's minute. The one test of every group (embeddings, contextualized, rerank).
 */
export function refillWait(
  costs: readonly ItemCost[],
  { tokensPerMinute }: Pick<CallLimits, 'tokensPerMinute'>,
): string | undefined {
  const tokens = costs.reduce((sum, cost) => sum + cost.tokens, 0);
  if (tokensPerMinute === undefined || 2 * tokens <= tokensPerMinute) return undefined;
  return `the model's limiter allows ${tokensPerMinute} tokens a minute: the small job's call of ${tokens} tokens, retried, waits for the limiter's refill besides the wait the API asked`;
}

/** An error answer in the wire's format. */
export function errorReply(
  wire: WireBasics,
  status: number,
  message: string,
  options: { kind?: ErrorKind; headers?: Record<string, string> } = {},
): () => WireReply {
  return () => ({
    status,
    body: wire.errorBody({ status, message, ...(options.kind === undefined ? {} : { kind: options.kind }) }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
}

/** The pass of the shared families for a group: a fresh world per case, turned into a `JobWorld` by `job`. */
export function jobPass<W extends World<unknown>>(
  kit: JobKit,
  world: (kind: TransportKind, variant?: WorldVariant) => W & { close(): Promise<void> },
  job: (world: W) => Omit<JobWorld, keyof World<unknown> | 'callsAnswered'>,
): FamilyPass<JobKit, JobWorld> {
  return {
    suite: kit,
    idPrefix: '',
    splittingOnly: false,
    toScenario: (id, run, variant) => ({
      id,
      run: (kind) =>
        runInWorld(world(kind, variant), (created) => {
          // The job runs on the world's model with its calls watched.
          const watched = watchedModel(created.model as object, kit.method);
          const watchedWorld: W = { ...created, model: watched.model };
          return run({ ...watchedWorld, ...job(watchedWorld), callsAnswered: watched.answered });
        }),
    }),
  };
}

/**
 * `model` with the calls of its `method` watched until they settle. A proxy, so the model's own methods
 * run on the model itself (private fields included), and whatever keys a default limiter by the model
 * object sees one object per world.
 */
function watchedModel<M extends object>(
  model: M,
  method: string,
): { model: M; answered(): Promise<boolean[]> } {
  const calls: Promise<boolean>[] = [];
  const watched = (...args: unknown[]) => {
    const call = (Reflect.get(model, method) as (...values: unknown[]) => Promise<unknown>).apply(
      model,
      args,
    );
    calls.push(
      Promise.resolve(call).then(
        () => true,
        () => false,
      ),
    );
    return call;
  };
  const proxy = new Proxy(model, {
    get(target, key) {
      if (key === method) return watched;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { model: proxy, answered: () => Promise.all(calls) };
}
