/** A non-negative decimal number, the only form either header's number takes. */
export const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * Reads a server's wait hint: `retry-after-ms` (milliseconds, may be fractional) wins over `retry-after`
 * (integer seconds or an HTTP-date). Returns undefined when neither is present or parseable.
 */
export function parseRetryAfter(
  headers: Record<string, string>,
  now: number = Date.now(),
): number | undefined {
  // A plain decimal only: parseFloat read "0x10" as 0 (an immediate retry) and took "250ms" whole.
  const milliseconds = headers['retry-after-ms']?.trim();
  if (milliseconds !== undefined && DECIMAL.test(milliseconds)) return Number.parseFloat(milliseconds);
  const retryAfter = firstRetryAfter(headers['retry-after']);
  if (retryAfter === undefined || retryAfter === '') return undefined;
  if (DECIMAL.test(retryAfter)) return Number.parseFloat(retryAfter) * 1_000;
  // Only an HTTP-date (IMF-fixdate, RFC 850 or asctime: each starts with a day name); a lenient parse
  // would read "-1" as a year.
  if (!/^[A-Za-z]{3,9},? /.test(retryAfter)) return undefined;
  // Every HTTP-date is in GMT, but asctime's form does not say so, and `Date.parse` reads a date without a
  // zone in the machine's own: 30 s ahead read as 0 in Tokyo and as seven hours in Los Angeles.
  const date = Date.parse(/ GMT$/.test(retryAfter) ? retryAfter : `${retryAfter} GMT`);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The first value of a `Retry-After` header sent twice (the transports join repeats with ", "): a number,
 * or a date up to its "GMT" (IMF-fixdate and RFC 850 hold a comma of their own; asctime holds none).
 */
function firstRetryAfter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d/.test(trimmed)) return trimmed.split(',')[0]!.trim();
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
