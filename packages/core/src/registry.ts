import { describeValue } from './argument-checks.js';
import { InvalidArgumentError } from './errors.js';
import type { EmbeddingModel, EmbeddingProvider } from './types.js';

export interface Registry<Providers extends Record<string, EmbeddingProvider>> {
  /** A model from an id of the form `provider:model`, e.g. `openai:text-embedding-3-small`. */
  embeddingModel(id: `${Extract<keyof Providers, string>}:${string}`): EmbeddingModel;
  readonly providers: Providers;
}

/** Looks models up by `provider:model` strings, e.g. from configuration or a command line. */
export function createRegistry<Providers extends Record<string, EmbeddingProvider>>(
  providers: Providers,
): Registry<Providers> {
  return {
    providers,
    embeddingModel(id) {
      const separator = typeof id === 'string' ? id.indexOf(':') : -1;
      if (separator <= 0 || separator === id.length - 1) {
        // The id is shown as every refusal shows a value: a long string by its length alone, so that an
        // API key passed here by mistake stays out of the message and the logs it reaches, and anything
        // else by its kind (a number quoted read as a string, and an object without a prototype could
        // not be made a string at all).
        throw new InvalidArgumentError(
          `Model id ${describeValue(id)} must look like "provider:model", e.g. "openai:text-embedding-3-small".`,
          { argument: 'id' },
        );
      }
      const name = id.slice(0, separator);
      const provider = Object.hasOwn(providers, name) ? providers[name] : undefined;
      if (provider === undefined) {
        throw new InvalidArgumentError(
          `No provider "${name}" in this registry; it has ${Object.keys(providers).join(', ') || 'none'}.`,
          { argument: 'id' },
        );
      }
      return provider.embedding(id.slice(separator + 1));
    },
  };
}
