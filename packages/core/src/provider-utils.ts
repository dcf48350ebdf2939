import { InvalidArgumentError } from './errors.js';

/**
 * The API key for a call: the explicit setting, else the first environment variable that is set. Read at
 * call time, never at import. A missing key is an `InvalidArgumentError` that names what to set.
 */
export function loadApiKey(options: {
  apiKey: string | undefined;
  environmentVariables: readonly string[];
  provider: string;
}): string {
  if (options.apiKey !== undefined) {
    if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      const fallback =
        options.environmentVariables.length === 0 ? '' : ` or leave it out to use ${options.environmentVariables.join(' or ')}`;
      throw new InvalidArgumentError(`${options.provider}: apiKey is empty; pass a key${fallback}.`, { argument: 'apiKey' });
    }
    return options.apiKey;
  }
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  for (const name of options.environmentVariables) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
  }
  const where =
    options.environmentVariables.length === 0
      ? 'Pass apiKey'
      : `Set the ${options.environmentVariables.join(' or ')} environment variable, or pass apiKey`;
  throw new InvalidArgumentError(
    `${options.provider}: no API key. ${where} to the provider settings.`,
    { argument: 'apiKey' },
  );
}
