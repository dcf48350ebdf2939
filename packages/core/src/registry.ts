import { describeValue } from './argument-checks.js';
import { InvalidArgumentError } from './errors.js';
import type { EmbeddingModel, EmbeddingProvider } from './types.js';

/**
 * The model a registry gives for `Id`: the model type of the provider its prefix names (up to the first
 * colon, as the lookup reads it), so `openai:text-embedding-3-small` gives `OpenAIEmbeddingModel<'openai'>`
 * and takes the OpenAI options; an id of either of two prefixes gives either model, and one whose prefix
 * is known only as `string` a plain `EmbeddingModel`.
 */
export type RegistryEmbeddingModel<
  Providers extends Record<string, EmbeddingProvider>,
  Id extends string,
> = Id extends `${infer Name}:${string}`
  ? string extends Name
    ? EmbeddingModel
    : Name extends keyof Providers
      ? ReturnType<Providers[Name]['embedding']>
      : EmbeddingModel
  : EmbeddingModel;

export interface Registry<Providers extends Record<string, EmbeddingProvider>> {
  /**
   * A model from an id of the form `provider:model`, e.g. `openai:text-embedding-3-small`, typed as that
   * provider's models are (see `RegistryEmbeddingModel`).
   */
  embeddingModel<Id extends `${Extract<keyof Providers, string>}:${string}`>(
    id: Id,
  ): RegistryEmbeddingModel<Providers, Id>;
  readonly providers: Providers;
}

/** Looks models up by `provider:model` strings, e.g. from configuration or a command line. */
export function createRegistry<Providers extends Record<string, EmbeddingProvider>>(
  providers: Providers,
): Registry<Providers> {
  checkProviders(providers);
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
        // Shown as the id is: the part before the colon may be a key pasted in the wrong place.
        throw new InvalidArgumentError(
          `No provider ${describeValue(name)} in this registry; it has ${Object.keys(providers).join(', ') || 'none'}.`,
          { argument: 'id' },
        );
      }
      // The compiler cannot follow a lookup by a run-time string: the provider the prefix names is the one
      // whose model type `RegistryEmbeddingModel` gives.
      return provider.embedding(id.slice(separator + 1)) as RegistryEmbeddingModel<Providers, typeof id>;
    },
  };
}

/**
 * An object of names to providers, each with an `embedding` function. Checked when the registry is made:
 * `createRegistry(null)`, or a provider that is not one, would otherwise fail only at the first lookup, far
 * from the mistake, with a TypeError that names neither.
 */
function checkProviders(providers: unknown): void {
  if (typeof providers !== 'object' || providers === null || Array.isArray(providers)) {
    throw new InvalidArgumentError(
      `createRegistry takes an object of provider names to providers, like { openai, voyage }; got ${describeValue(providers)}.`,
      { argument: 'providers' },
    );
  }
  for (const [name, provider] of Object.entries(providers)) {
    if (typeof (provider as Partial<EmbeddingProvider> | null)?.embedding !== 'function') {
      throw new InvalidArgumentError(
        `createRegistry: providers.${name} must be a provider, an object with an embedding function; got ${describeValue(provider)}.`,
        { argument: `providers.${name}` },
      );
    }
  }
}
