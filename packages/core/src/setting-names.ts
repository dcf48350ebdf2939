/**
 * Refusing settings nobody reads. A misspelt or borrowed setting (`dimension` for `dimensions`, the AI
 * SDK's `values` for `inputs`, `baseUrl` for `baseURL`) would otherwise be dropped without a word, and the
 * call would go out as if it had not been given: the wrong vector length, the wrong server. Every public
 * function of embedkit that takes a settings object checks its names here, before anything is sent.
 */

import { InvalidArgumentError } from './errors.js';

/**
 * Every setting of a settings interface `T`, as a record of `true`s. The compiler checks the record
 * against the interface: a setting left out is a type error, and so, in the names written out, is one the
 * interface lacks (names spread in from another record are not checked for that, so spread only the
 * names of a part of `T`, or `omitSettingNames` of a larger interface). The names refused at run time
 * then cannot drift from the documented types.
 */
export type SettingNames<T> = Readonly<Record<keyof T & string, true>>;

/**
 * `names` without `omitted`: the names of `Omit<T, K>`, for settings that extend a part of another's
 * (an adapter that takes the engine's settings less those it passes per call).
 */
export function omitSettingNames<T, K extends keyof T & string>(
  names: SettingNames<T>,
  omitted: readonly K[],
): SettingNames<Omit<T, K>> {
  const out: Record<string, true> = { ...names };
  for (const name of omitted) delete out[name];
  return out as SettingNames<Omit<T, K>>;
}

/** Edit distance between two names: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, row) =>
    Array.from({ length: b.length + 1 }, (_, column) => (row === 0 ? column : column === 0 ? row : 0)),
  );
  for (let row = 1; row <= a.length; row++) {
    for (let column = 1; column <= b.length; column++) {
      const cost = a[row - 1] === b[column - 1] ? 0 : 1;
      let best = Math.min(
        rows[row - 1]![column]! + 1,
        rows[row]![column - 1]! + 1,
        rows[row - 1]![column - 1]! + cost,
      );
      if (row > 1 && column > 1 && a[row - 1] === b[column - 2] && a[row - 2] === b[column - 1]) {
        best = Math.min(best, rows[row - 2]![column - 2]! + 1);
      }
      rows[row]![column] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate `name` is most likely a typo of: the same name in other case (`baseUrl` for `baseURL`),
 * else the one candidate it begins, a few letters short (`onWarn` for `onWarning`), else the nearest
 * within one edit per three characters (at least one, at most two: `modle` for `model`, `dimension` for
 * `dimensions`) and fewer edits than the name has letters. Undefined when none is that close.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const folded = name.toLowerCase();
  const sameLetters = candidates.find((candidate) => candidate.toLowerCase() === folded);
  if (sameLetters !== undefined) return sameLetters;
  // A name cut short by a few letters (`onWarn`, `tokensPerMin`): the one candidate it begins.
  const begun =
    folded.length >= 4
      ? candidates.filter(
          (candidate) => candidate.length - name.length <= 4 && candidate.toLowerCase().startsWith(folded),
        )
      : [];
  if (begun.length === 1) return begun[0];
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(name.length / 3)));
  for (const candidate of candidates) {
    // The distance is at least the difference in length: no need to measure past it.
    if (Math.abs(candidate.length - name.length) > bestDistance) continue;
    const value = editDistance(name, candidate);
    // As many edits as the name has letters share nothing with it: `x` is no typo of `y`.
    if (
      value <= bestDistance &&
      value < name.length &&
      (best === undefined || value < editDistance(name, best))
    ) {
      best = candidate;
      bestDistance = value;
    }
  }
  return best;
}

export interface UnknownSettingsOptions {
  /** What the entries are called in the message. Default `setting`. */
  noun?: string;
  /** For names other libraries use, what to use here instead (a clause that follows a colon). */
  instead?: Readonly<Record<string, string>>;
  /** Where the object sits, for the error's `argument` (`inputs[3]`): `<at>.<name>`. Default: the name alone. */
  at?: string;
  /**
   * Refuse only a name that is a typo of a known one (`titel`), and let others through: for objects that
   * may carry their owner's own fields (an input with the `id` of its record).
   */
  onlyTypos?: boolean;
}

/**
 * Refuses the first own name of `settings` that `known` lacks and whose value is not `undefined` (an
 * absent setting written out, as `{ ...a, b: undefined }` does, changes nothing) with an
 * `InvalidArgumentError` naming `owner`, the name, and what to use instead: the setting it is a typo of,
 * or the `instead` clause for it, or else every setting `owner` takes.
 */
export function refuseUnknownSettings(
  settings: object,
  known: Readonly<Record<string, true>>,
  owner: string,
  options: UnknownSettingsOptions = {},
): void {
  const noun = options.noun ?? 'setting';
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new InvalidArgumentError(`${owner} takes an object of ${noun}s, or none.`, {
      argument: 'settings',
    });
  }
  const values = settings as Record<string, unknown>;
  for (const name of Object.keys(settings)) {
    if (Object.hasOwn(known, name) || values[name] === undefined) continue;
    const names = Object.keys(known);
    const instead =
      options.instead !== undefined && Object.hasOwn(options.instead, name)
        ? options.instead[name]
        : undefined;
    const typoOf = instead === undefined ? closestName(name, names) : undefined;
    if (options.onlyTypos === true && instead === undefined && typoOf === undefined) continue;
    const hint =
      instead !== undefined
        ? `: ${instead}.`
        : typoOf !== undefined
          ? `; did you mean ${typoOf}?`
          : `. It takes ${names.join(', ')}.`;
    throw new InvalidArgumentError(`${owner} has no ${noun} ${name}${hint}`, {
      argument: options.at === undefined ? name : `${options.at}.${name}`,
    });
  }
}
