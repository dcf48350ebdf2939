const REDACTED = '[REDACTED]';

/** Query parameters that carry credentials in some APIs (Gemini's `key`). */
const SECRET_QUERY_PARAMETERS = /([?&](?:key|api_key|apikey|access_token|token)=)[^&#\s]*/gi;

/**
 * Removes every secret from `text`: each given value (and its URL-encoded form) and credential query
 * parameters. Secrets shorter than 4 characters are ignored (they would redact ordinary words).
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    out = out.split(secret).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  return out.replace(SECRET_QUERY_PARAMETERS, `$1${REDACTED}`);
}

/** A short, secret-free excerpt of a response body for error messages. */
export function bodyExcerpt(text: string, secrets: readonly (string | undefined)[], limit = 1_000): string {
  const clean = redact(text, secrets);
  return clean.length > limit ? `${clean.slice(0, limit)}… (${clean.length - limit} more characters)` : clean;
}
