/**
 * Families: the unit the suite is written in. A family is a flat list of cases, each with the bug it
 * catches named beside it; the provider's capabilities and wire profile decide which families and cases
 * apply, and the ones that do not are reported with the reason.
 */
import { InvalidResponseError, type RateLimiter } from '@embedkit/core';
import { type ItemCost, type PackLimits, planCallSizes } from '@embedkit/core/testing';
import { runInWorld, type World, type WorldVariant } from '../harness.js';
import type { TransportKind } from '../interceptor.js';

/** One generated scenario: a stable id (the key for `expectedFailures`) that runs through one transport. */
export interface Scenario {
  id: string;
  run(kind: TransportKind): Promise<void>;
}

/** One case of a family: its id, the bug it catches, and what it does in a fresh world (built as `world` says). */
export interface Case<W> {
  id: string;
  catches: string;
  run(world: W): Promise<void>;
  world?: WorldVariant;
}

/** A case the provider's capabilities or wire profile rule out, with the reason. */
export interface SkippedCase {
  id: string;
  skipped: string;
}

/** A case: `id`, the bug it `catches`, its body, and how its world differs from the usual one (if it does). */
export function check<W>(
  id: string,
  catches: string,
  run: (world: W) => Promise<void>,
  world?: WorldVariant,
): Case<W> {
  return world === undefined ? { id, catches, run } : { id, catches, run, world };
}

/** A case that does not apply here, and why. */
export function skip(id: string, reason: string): SkippedCase {
  return { id, skipped: reason };
}

/** A family of cases generated for one group (embeddings, contextualized, rerank, batch jobs). */
export interface Family<S, W> {
  name: string;
  /** What the family checks, in one line, for the report. */
  checks: string;
  /** Whether the family runs again with tiny batches and concurrency 1 (the families that split work). */
  splits?: boolean;
  /** Why the whole family does not apply to this provider, or undefined when it runs. */
  skip?(suite: S): string | undefined;
  cases(suite: S): (Case<W> | SkippedCase)[];
}

/** What one family did for a provider: the scenarios it ran, or why it (or some of its cases) did not run. */
export interface FamilyReport {
  group: string;
  family: string;
  checks: string;
  /** Ids of the scenarios generated, in every mode. Empty when the family was skipped. */
  scenarios: string[];
  /** Why the family did not run. */
  skipped?: string;
  /** Cases of a running family that did not apply, with the reason. */
  skippedCases: { id: string; reason: string }[];
}

/** The scenarios of a group and the report of its families. */
export interface ScenarioList {
  scenarios: Scenario[];
  families: FamilyReport[];
}

/** One pass over the families: a mode (the default, or tiny batches) and how a case becomes a scenario. */
export interface FamilyPass<S, W> {
  suite: S;
  /** Prefixed to every id of this pass, e.g. `tiny-batches/`. */
  idPrefix: string;
  /** Only the families that split work run in this pass. */
  splittingOnly: boolean;
  toScenario(id: string, run: (world: W) => Promise<void>, variant?: WorldVariant): Scenario;
}

/**
 * Turns families into scenarios over one or more passes, and reports, per family, what ran and what did
 * not (and why). Ids must be unique: a duplicate is a bug in the suite.
 */
export function buildScenarios<S, W>(
  group: string,
  families: readonly Family<S, W>[],
  passes: readonly FamilyPass<S, W>[],
): ScenarioList {
  const scenarios: Scenario[] = [];
  const reports: FamilyReport[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    const report: FamilyReport = {
      group,
      family: family.name,
      checks: family.checks,
      scenarios: [],
      skippedCases: [],
    };
    reports.push(report);
    for (const [position, pass] of passes.entries()) {
      if (pass.splittingOnly && family.splits !== true) continue;
      const reason = family.skip?.(pass.suite);
      if (reason !== undefined) {
        if (position === 0) report.skipped = reason;
        continue;
      }
      for (const item of family.cases(pass.suite)) {
        const id = `${pass.idPrefix}${item.id}`;
        if (seen.has(id)) throw new Error(`conformance suite: two scenarios share the id ${id}`);
        seen.add(id);
        if ('skipped' in item) {
          report.skippedCases.push({ id, reason: item.skipped });
          continue;
        }
        scenarios.push(withCatches(pass.toScenario(id, item.run, item.world), item.catches));
        report.scenarios.push(id);
      }
    }
  }
  return { scenarios, families: reports };
}

/**
 * The scenario with the bug its case catches named at the end of every failure message (`… (this
 * scenario catches: <bug>)`), so that a failing provider is told what is wrong, not only what differed.
 */
function withCatches(scenario: Scenario, catches: string): Scenario {
  return {
    id: scenario.id,
    run: (kind) =>
      scenario.run(kind).catch((error: unknown) => {
        const caught = (error as { [CAUGHT]?: unknown } | null)?.[CAUGHT];
        throw withNote(error, ` (this scenario catches: ${typeof caught === 'string' ? caught : catches})`);
      }),
  };
}

/**
 * Set on a failure whose cause a pass knows better than the case does (a dropped option every generic
 * scenario trips over): the bug named at its end, in place of the case's own.
 */
export const CAUGHT = Symbol('embedkit.conformance.caught');

/**
 * `error` with `note` after its message (and in its stack, which repeats the message). The stack is read
 * before the message changes: V8 formats it lazily, from the message it finds at the first read, so read
 * after it would hold the note already and get it twice. Node's `assert` puts a diff of the values after
 * a message of ours; the note goes before it, at the end of the sentence it belongs to.
 */
export function withNote(error: unknown, note: string): unknown {
  const text = String((error as Error)?.message ?? error);
  const diffAt = assertDiffAt(error, text);
  const noted = diffAt === -1 ? `${text}${note}` : `${text.slice(0, diffAt)}${note}${text.slice(diffAt)}`;
  if (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string') {
    const failure = error as Error;
    try {
      const stack = failure.stack;
      failure.message = noted;
      if (typeof stack === 'string' && text !== '' && stack.includes(text))
        failure.stack = stack.replace(text, () => failure.message);
      if (failure.message === noted) return failure;
    } catch {
      // A frozen error: wrapped below.
    }
  }
  return new Error(noted, { cause: error });
}

/**
 * Where node's `assert` starts what it adds under a message of ours: a diff of objects ("+ actual -
 * expected") or, for two values of a simple kind, a blank line and `3 !== 1`. -1 for any other error.
 */
function assertDiffAt(error: unknown, text: string): number {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_ASSERTION') return -1;
  const diff = text.indexOf('\n+ actual - expected');
  if (diff >= 0) return diff;
  // The value line ends the message: a blank line of our own message's is no start of it.
  return /\n\n[^\n]*\n$/.exec(text)?.index ?? -1;
}

/** A readable account of a report: which families ran, which were skipped and why. */
export function describeFamilies(reports: readonly FamilyReport[]): string {
  return reports
    .map((report) => {
      const head = `${report.group} / ${report.family}`;
      if (report.skipped !== undefined) return `${head}: skipped (${report.skipped})`;
      const notes = report.skippedCases.map((item) => `\n    ${item.id} skipped (${item.reason})`).join('');
      return `${head}: ${report.scenarios.length} scenarios${notes}`;
    })
    .join('\n');
}

/**
 * What one item costs against a call's limits: its tokens, its units of a second limit (a document's
 * chunks; default 1), and its cost group (items of two groups never share a call).
 */
export type { ItemCost };

/**
 * The limits a job's calls are packed under, as the engine takes them: items, and optionally tokens and
 * units summed over a call's items, the token budget a minute of the limiter the job draws on (which caps
 * a call's tokens too), and whether the token counts are exact.
 */
export type CallLimits = Pick<
  PackLimits,
  'maxItems' | 'maxTokens' | 'maxUnits' | 'tokensPerMinute' | 'exactTokens'
>;

/**
 * The sizes of the calls the engine makes for items of these costs: packed by the engine's own packer
 * (`planCallSizes`), so that the suite never predicts other calls than the engine sends. Scenarios plan
 * their calls with it, so that a provider declaring lower limits than the suite's own choices still
 * passes. Throws where the engine refuses the job before its first call (an exact count over the budget a
 * minute).
 */
export function packedCallSizes(costs: readonly ItemCost[], limits: CallLimits): number[] {
  return planCallSizes(costs, limits);
}

/**
 * The token budget a minute of the limiter a job draws on, which caps each of its calls' tokens as the
 * engine packs them: the job's own `rateLimit`'s, else its model's (a provider created with `rateLimit`);
 * undefined where that limiter sets none.
 */
export function minuteTokens(
  rateLimit: RateLimiter | undefined,
  model: { readonly rateLimiter?: RateLimiter | undefined },
): number | undefined {
  return (rateLimit ?? model.rateLimiter)?.tokensPerMinute;
}

/**
 * The token budget that closes a call packed under `limits`: the lower of the budget per call and the
 * limiter's budget a minute, and what sets it (`byLimiter`: the limiter), worded for a skip's reason
 * (`what` names the budget per call, e.g. `maxTokensPerCall`); undefined where neither is set.
 */
export function callTokenBudget(
  limits: Pick<CallLimits, 'maxTokens' | 'tokensPerMinute'>,
  what: string,
): { tokens: number; source: string; byLimiter: boolean } | undefined {
  const { maxTokens, tokensPerMinute } = limits;
  if (tokensPerMinute !== undefined && (maxTokens === undefined || tokensPerMinute < maxTokens))
    return {
      tokens: tokensPerMinute,
      byLimiter: true,
      source: `the model's limiter allows ${tokensPerMinute} tokens a minute, ${maxTokens === undefined ? `and it declares no ${what}` : `below its ${what} ${maxTokens}`}`,
    };
  return maxTokens === undefined
    ? undefined
    : { tokens: maxTokens, byLimiter: false, source: `the model declares ${what} ${maxTokens}` };
}

/**
 * Why a case needing `count` items (`noun`: inputs, documents) in one call is skipped where not even items
 * of a token each fit the token budget that closes a call (`callTokenBudget`'s).
 */
export function noCallHolds(budget: ReturnType<typeof callTokenBudget>, count: number, noun: string): string {
  const source = budget?.source ?? 'the model declares no token budget';
  return `${source}: no call ${budget?.byLimiter === true ? '' : 'of it '}holds ${count} ${noun}, even of a token each`;
}

/** How a budget of a call's tokens splits three items: their token counts, and the calls they go in. */
export interface BudgetSplit {
  counts: [number, number, number];
  calls: number[];
}

/**
 * Three items' token counts that a budget of `budget` tokens a call splits otherwise than a cap of
 * `maxItems` items a call alone would, and the calls it packs them in. Where a call takes three items or
 * more: two that make the budget exactly, then one of a token, in calls of [2, 1] (the cap alone: [3]).
 * Where it takes two, which alone packs three items in [2, 1] too: one that makes the budget, then two
 * that make it again, in calls of [1, 2]. A budget of one token holds one item a call (an item counts a
 * token at least), so there three items of a token each go in calls of [1, 1, 1]. A packer that lets a
 * call run past the budget sends other calls, and, where the budget holds two, so does one that closes a
 * call a token early.
 */
export function budgetSplit(budget: number, maxItems: number): BudgetSplit {
  if (budget < 2) return { counts: [1, 1, 1], calls: [1, 1, 1] };
  const half = Math.floor(budget / 2);
  return maxItems < 3
    ? { counts: [budget, half, budget - half], calls: [1, 2] }
    : { counts: [half, budget - half, 1], calls: [2, 1] };
}

/** `items` cut into consecutive calls of these sizes. */
export function inCalls<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  let offset = 0;
  return sizes.map((size) => {
    offset += size;
    return items.slice(offset - size, offset);
  });
}

/** The pass of a mode: outside the default mode ids are prefixed and only splitting families run; each case gets a fresh world. */
export function modePass<S, W extends World<unknown>>(
  mode: { name: string },
  suite: S,
  world: (kind: TransportKind, variant?: WorldVariant) => W & { close(): Promise<void> },
): FamilyPass<S, W> {
  return {
    suite,
    idPrefix: mode.name === 'default' ? '' : `${mode.name}/`,
    splittingOnly: mode.name !== 'default',
    toScenario: (id, body, variant) => ({ id, run: (kind) => runInWorld(world(kind, variant), body) }),
  };
}

/** How a group asks its vector length, for `explainingDroppedDimensions`. */
export interface DimensionsAsked {
  /** The length every generic job of the group asks (the suite's own), or undefined when it asks none. */
  asked: number | undefined;
  /** The dimensions a request body carries, one entry per item read (undefined where none). */
  sentIn(body: unknown): (number | undefined)[];
  /** The wire field that reads them, as the message names it (`dimensionsOf`, `itemsOf`). */
  reader: string;
  /**
   * Ids of the group's cases that check the dimensions a request carried themselves: a group whose answers
   * the engine cannot hold to the length asked (a batch job's results come from another call) is told of
   * the dropped option where those checks fail. Default: none.
   */
  checkedBy?: readonly string[];
}

/**
 * `error`, with its cause named when no request carried any dimensions though the group asked a length:
 * the provider dropped the option. Named where the engine refused an answer of another length than the
 * `asked` one (the API answered its default length), and where a case that checks the dimensions sent
 * (`checksSent`) failed. Every generic scenario asks that length (a small one keeps batches cheap), so
 * without the note each of them failed naming its own case's bug, none of them this one.
 */
function explainDroppedDimensions(
  dimensions: DimensionsAsked,
  world: World<unknown>,
  error: unknown,
  checksSent: boolean,
): unknown {
  const { asked } = dimensions;
  if (asked === undefined) return error;
  const lengthRefused =
    InvalidResponseError.isInstance(error) &&
    error.message.includes(`expected ${asked} for dimensions ${asked}`);
  if (!lengthRefused && !checksSent) return error;
  // A request the wire cannot read (the provider's own mistake, which the case may be reporting) gives no
  // note: the note must never stand in for the failure it explains.
  let sent: (number | undefined)[];
  try {
    sent = world.interceptor.requests.flatMap((request) => dimensions.sentIn(request.body));
  } catch {
    return error;
  }
  if (sent.length === 0 || sent.some((value) => value !== undefined)) return error;
  const carried = `request carried dimensions (as the wire's ${dimensions.reader} reads them) though the job asked ${asked}: the provider drops the dimensions option`;
  const noted = withNote(
    error,
    lengthRefused ? ` No ${carried}, so the API answered its default length.` : `; no ${carried}`,
  ) as Error & { [CAUGHT]?: string };
  // The case's own bug is not what failed: its note would point at the key, the retries or the order.
  noted[CAUGHT] = lengthRefused
    ? 'the dimensions option dropped, so the API answers its default length'
    : 'the dimensions option dropped';
  return noted;
}

/**
 * `pass` with each failure of its scenarios explained when the provider dropped the dimensions option
 * (see `explainDroppedDimensions`): the one note every group that asks a length gives, for its own
 * families and for the shared ones alike.
 */
export function explainingDroppedDimensions<S, W extends World<unknown>>(
  pass: FamilyPass<S, W>,
  dimensions: DimensionsAsked,
): FamilyPass<S, W> {
  const checks = new Set((dimensions.checkedBy ?? []).map((id) => `${pass.idPrefix}${id}`));
  return {
    ...pass,
    toScenario: (id, body, variant) =>
      pass.toScenario(
        id,
        (world) =>
          body(world).catch((error: unknown) => {
            throw explainDroppedDimensions(dimensions, world, error, checks.has(id));
          }),
        variant,
      ),
  };
}
