/** A non-negative decimal number, the only form a header's number takes. */
const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * A number from a header (`retry-after-ms`, `x-ratelimit-remaining-requests`, …): a plain non-negative
 * decimal, or nothing. Of a header sent twice (the transports join repeats with ", ") the first value
 * counts. `parseFloat` read "0x10" as 0 and took "250ms" whole; `Number` read "" as 0.
 */
export function headerNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const first = value.split(',')[0]!.trim();
  return DECIMAL.test(first) ? Number.parseFloat(first) : undefined;
}

/**
 * Reads a server's wait hint: `retry-after-ms` (milliseconds, may be fractional) wins over `retry-after`
 * (integer seconds or an HTTP-date). Returns undefined when neither is present or parseable. An HTTP-date
 * is read against the response's own `Date` when it has one: both are the server's clock, so a machine
 * whose clock is minutes behind or ahead of it reads the wait the server meant; `now` serves without one.
 */
export function parseRetryAfter(
  headers: Record<string, string>,
  now: number = Date.now(),
): number | undefined {
  const milliseconds = headerNumber(headers['retry-after-ms']);
  if (milliseconds !== undefined) return milliseconds;
  const seconds = headerNumber(headers['retry-after']);
  if (seconds !== undefined) return seconds * 1_000;
  const date = httpDate(firstDate(headers['retry-after']));
  if (date === undefined) return undefined;
  return Math.max(0, date - (httpDate(firstDate(headers.date)) ?? now));
}

/** An HTTP-date as epoch milliseconds, or undefined for anything else. */
function httpDate(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  // Only an HTTP-date (IMF-fixdate, RFC 850 or asctime: each starts with a day name and holds a time of
  // day); a lenient parse would read "-1" as a year, and "wait 60" as a date in 1960, so a wait of 0.
  if (!/^[A-Za-z]{3,9},? .*\b\d{2}:\d{2}:\d{2}\b/.test(text)) return undefined;
  // Every HTTP-date is in GMT, but asctime's form does not say so, and `Date.parse` reads a date without a
  // zone in the machine's own: 30 s ahead read as 0 in Tokyo and as seven hours in Los Angeles.
  const date = Date.parse(/ GMT$/.test(text) ? text : `${text} GMT`);
  return Number.isNaN(date) ? undefined : date;
}

/** At or past this, an `x-ratelimit-reset` is a date in epoch seconds (September 2001), not a wait. */
const EPOCH_SECONDS_MIN = 1e9;
/** At or past this, it is a date in epoch milliseconds. */
const EPOCH_MILLISECONDS_MIN = 1e12;

/**
 * When a fixed rate-limit window opens again, from `x-ratelimit-reset`, as milliseconds from `now`: a date
 * in epoch seconds (how Voyage's SDK reads it) or epoch milliseconds, or, for a number too small to be a
 * date, seconds from now. Read only for a 429 that gives no other wait: nothing frees in a fixed window
 * before it resets. OpenAI's `x-ratelimit-reset-requests` / `-tokens` are not read as a wait: they say
 * when a budget is full again, not when the next call fits (`6m0s` where one call waits a second), and
 * the limiter reads the same budgets from `x-ratelimit-limit-*` and `-remaining-*`.
 */
export function parseRateLimitReset(
  headers: Record<string, string>,
  now: number = Date.now(),
): number | undefined {
  const value = headerNumber(headers['x-ratelimit-reset']);
  if (value === undefined) return undefined;
  // A date is the server's clock, read against its own `Date` as a `Retry-After` date is.
  if (value >= EPOCH_SECONDS_MIN) now = httpDate(firstDate(headers.date)) ?? now;
  if (value >= EPOCH_MILLISECONDS_MIN) return Math.max(0, value - now);
  if (value >= EPOCH_SECONDS_MIN) return Math.max(0, value * 1_000 - now);
  return value * 1_000;
}

/**
 * The first date of a `Retry-After` or `Date` header sent twice (joined with ", "): up to its "GMT" (IMF-fixdate
 * and RFC 850 hold a comma of their own), or up to the first comma (asctime holds none).
 */
function firstDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const zone = trimmed.indexOf(' GMT');
  if (zone >= 0) return trimmed.slice(0, zone + 4);
  return trimmed.split(',')[0]!.trim();
}

/** Parses a duration such as "11s", "0.5s", "1m30s", "250ms" or "6m0s" (Google `Duration`, OpenAI reset headers). */
export function parseDuration(text: string): number | undefined {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let matched = '';
  for (const match of text.trim().matchAll(pattern)) {
    const value = Number.parseFloat(match[1]!);
    const unit = match[2]!;
    total +=
      unit === 'ms'
        ? value
        : unit === 's'
          ? value * 1_000
          : unit === 'm'
            ? value * 60_000
            : value * 3_600_000;
    matched += match[0];
  }
  return matched !== '' && matched === text.trim() ? total : undefined;
}
