/**
 * The repository's cassettes record the header each API takes its key in (`auth`), so a provider that
 * sends its key in another header fails the replay of every one of its cassettes, through either
 * transport, naming the header and never the key. The provider is made wrong by its transport: the key's
 * header is renamed `api-key` on its way out, the rest of the request untouched; the same wrapper renaming
 * nothing replays every cassette.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CassetteSuite,
  type CreateModelOptions,
  fakeApiKey,
  loadCassettes,
  openAICompatibleWire,
  replayCassette,
  TRANSPORT_KINDS,
  type TransportKind,
} from '@embedkit/conformance';
import type { FetchFunction } from '@embedkit/core/provider';
import { createGemini } from '@embedkit/provider-gemini';
import { createJina } from '@embedkit/provider-jina';
import { createVoyage } from '@embedkit/provider-voyage';
import { describe, expect, it } from 'vitest';
import { createOpenAI } from '../src/index.js';

type Kind = 'embed' | 'contextualized' | 'rerank' | 'batch';

interface Provider {
  name: string;
  baseURL: string;
  directory: string;
  /** The header that carries the key, and its scheme. */
  auth: { header: string; scheme?: string };
  target(kind: Kind, settings: CreateModelOptions): unknown;
  wire?: CassetteSuite['wire'];
}

/** The model a cassette of `kind` replays against, of a provider with all three kinds of model. */
function modelOf(
  provider: {
    embedding(modelId: string): unknown;
    contextualizedEmbedding(modelId: string): unknown;
    reranking(modelId: string): unknown;
  },
  kind: Kind,
  modelId: string,
): unknown {
  return kind === 'contextualized'
    ? provider.contextualizedEmbedding(modelId)
    : kind === 'rerank'
      ? provider.reranking(modelId)
      : provider.embedding(modelId);
}

const cassettesOf = (name: string) =>
  fileURLToPath(new URL(`../../provider-${name}/test/cassettes`, import.meta.url));

const PROVIDERS: Provider[] = [
  {
    name: 'openai',
    baseURL: 'https://api.openai.com/v1',
    directory: cassettesOf('openai'),
    auth: { header: 'authorization', scheme: 'Bearer' },
    target: (_kind, { modelId, ...settings }) => createOpenAI(settings).embedding(modelId),
    wire: openAICompatibleWire({ path: '/v1/embeddings' }),
  },
  {
    name: 'voyage',
    baseURL: 'https://api.voyageai.com/v1',
    directory: cassettesOf('voyage'),
    auth: { header: 'authorization', scheme: 'Bearer' },
    target: (kind, { modelId, ...settings }) => modelOf(createVoyage(settings), kind, modelId),
  },
  {
    name: 'jina',
    baseURL: 'https://api.jina.ai/v1',
    directory: cassettesOf('jina'),
    auth: { header: 'authorization', scheme: 'Bearer' },
    target: (kind, { modelId, ...settings }) => modelOf(createJina(settings), kind, modelId),
  },
  {
    name: 'gemini',
    baseURL: 'https://generativelanguage.googleapis.com/v1beta',
    directory: cassettesOf('gemini'),
    auth: { header: 'x-goog-api-key' },
    target: (kind, { modelId, ...settings }) =>
      kind === 'batch'
        ? createGemini(settings).batchEmbeddingJobs(modelId)
        : createGemini(settings).embedding(modelId),
  },
];

/** The cassette directories of a provider: its own and each subdirectory's (`batch/`, `rerank/`, …). */
const directoriesOf = (directory: string): string[] => [
  directory,
  ...readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(directory, entry.name)),
];

/** Headers with `from` sent as `api-key` holding the key alone (its scheme dropped); `from` undefined: as they are. */
function renamed(headers: Record<string, string>, from: string | undefined): Record<string, string> {
  if (from === undefined) return headers;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.toLowerCase() === from) out['api-key'] = value.slice(value.indexOf(' ') + 1);
    else out[name] = value;
  return out;
}

/** The settings the replay hands the provider, their transport with the key's header renamed on its way out. */
function wrongKeyHeader(settings: CreateModelOptions, from: string | undefined): CreateModelOptions {
  const { fetch, dispatcher } = settings;
  if (fetch !== undefined)
    return {
      ...settings,
      fetch: ((input, init = {}) => {
        const headers: Record<string, string> = {};
        new Headers(init.headers).forEach((value, name) => {
          headers[name] = value;
        });
        return fetch(input, { ...init, headers: renamed(headers, from) });
      }) as FetchFunction,
    };
  return {
    ...settings,
    dispatcher: dispatcher!.compose(
      (dispatch) => (options, handler) =>
        dispatch(
          { ...options, headers: renamed((options.headers ?? {}) as Record<string, string>, from) },
          handler,
        ),
    ),
  };
}

/** The suite that replays `kind` cassettes of `provider`, its key header renamed when `from` is given. */
function suiteOf(provider: Provider, kind: Kind, from: string | undefined): CassetteSuite {
  const make = (settings: CreateModelOptions) => provider.target(kind, wrongKeyHeader(settings, from));
  return {
    name: provider.name,
    baseURL: provider.baseURL,
    kind,
    ...(kind === 'batch' ? { createJobs: make as CassetteSuite['createJobs'] } : { createModel: make }),
    ...(provider.wire === undefined ? {} : { wire: provider.wire }),
  };
}

const replay = (provider: Provider, file: string, kind: TransportKind, from: string | undefined) => {
  const cassette = loadCassettes(file.slice(0, file.lastIndexOf('/'))).find((each) => each.file === file)!;
  return replayCassette(suiteOf(provider, cassette.call.kind ?? 'embed', from), cassette, kind);
};

describe('a provider that sends its key in the wrong header fails its cassettes', () => {
  for (const provider of PROVIDERS) {
    const files = directoriesOf(provider.directory).flatMap((directory) =>
      loadCassettes(directory).map((cassette) => cassette.file),
    );
    const { header, scheme } = provider.auth;
    const difference = `header ${header} (the key's): recorded "${scheme === undefined ? '' : `${scheme} `}…", sent (absent)`;

    for (const kind of TRANSPORT_KINDS) {
      it(`${provider.name}: each of its ${files.length} cassettes names ${header} as not sent [${kind}]`, async () => {
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) {
          const failure = await replay(provider, file, kind, header).then(
            () => expect.unreachable(`${file} replayed with the key in api-key`),
            (error: Error) => error.message,
          );
          expect(failure, file).toContain(difference);
          expect(failure, file).not.toContain(fakeApiKey(provider.name));
        }
      });

      it(`${provider.name}: the same transport renaming nothing replays each of its cassettes [${kind}]`, async () => {
        for (const file of files) await replay(provider, file, kind, undefined);
      });
    }
  }
});
