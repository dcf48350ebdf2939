import type { EmbeddingCapabilities } from '@embedkit/core';
import { GEMINI_MODELS } from '@embedkit/provider-gemini';
import { JINA_EMBEDDING_MODELS } from '@embedkit/provider-jina';
import { OPENAI_MODELS } from '@embedkit/provider-openai';
import { VOYAGE_EMBEDDING_MODELS, VOYAGE_MULTIMODAL_MODELS } from '@embedkit/provider-voyage';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

interface Listed {
  provider: string;
  kind: string;
  modelId: string;
  capabilities: EmbeddingCapabilities;
}

const listed = (
  provider: string,
  kind: string,
  table: Record<string, EmbeddingCapabilities | { capabilities: EmbeddingCapabilities }>,
): Listed[] =>
  Object.entries(table).map(([modelId, entry]) => ({
    provider,
    kind,
    modelId,
    capabilities: 'capabilities' in entry ? entry.capabilities : entry,
  }));

/**
 * Every embedding model each provider package exports, read from the packages' own tables here (not
 * through the CLI): Jina's table holds profiles whose `capabilities` field is the capabilities.
 */
const EXPORTED: Record<string, { models: Listed[]; some: string[] }> = {
  openai: {
    models: listed('openai', 'embedding', OPENAI_MODELS),
    some: ['text-embedding-3-small', 'text-embedding-ada-002'],
  },
  voyage: {
    models: [
      ...listed('voyage', 'embedding', VOYAGE_EMBEDDING_MODELS),
      ...listed('voyage', 'multimodal', VOYAGE_MULTIMODAL_MODELS),
    ],
    some: ['voyage-4', 'voyage-code-3', 'voyage-multimodal-3.5'],
  },
  gemini: {
    models: listed('gemini', 'embedding', GEMINI_MODELS),
    some: ['gemini-embedding-001'],
  },
  jina: {
    models: listed('jina', 'embedding', JINA_EMBEDDING_MODELS),
    some: ['jina-embeddings-v3', 'jina-embeddings-v4', 'jina-clip-v2', 'jina-code-embeddings-0.5b'],
  },
};

describe('models', () => {
  it('--provider openai prints every OpenAI model with its capabilities', async () => {
    const result = await runCli(['models', '--provider', 'openai']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('openai (@embedkit/provider-openai)');
    expect(lines[1]).toMatch(
      /^ {2}MODEL +KIND +DIMENSIONS +INPUTS\/CALL +TOKENS\/CALL +CONTEXT +INPUT TYPES +OUTPUT TYPES +MODALITIES +NORMALIZED$/,
    );
    const rows = lines
      .slice(2)
      .filter((line) => line !== '')
      .map((line) => line.trim().split(/ {2,}/));
    expect(rows).toEqual([
      [
        'text-embedding-3-small',
        'embedding',
        '1536 (1-1536)',
        '2048',
        '300000',
        '8192',
        '-',
        'float',
        'text',
        'yes',
      ],
      [
        'text-embedding-3-large',
        'embedding',
        '3072 (1-3072)',
        '2048',
        '300000',
        '8192',
        '-',
        'float',
        'text',
        'yes',
      ],
      ['text-embedding-ada-002', 'embedding', '1536', '2048', '300000', '8192', '-', 'float', 'text', 'yes'],
    ]);
  });

  it('--json gives the capabilities exactly as the package declares them', async () => {
    const result = await runCli(['models', '--provider', 'openai', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(
      Object.entries(OPENAI_MODELS).map(([modelId, capabilities]) => ({
        provider: 'openai',
        kind: 'embedding',
        modelId,
        capabilities,
      })),
    );
  });

  for (const [provider, exported] of Object.entries(EXPORTED)) {
    it(`--provider ${provider} lists exactly the models @embedkit/provider-${provider} exports`, async () => {
      // The tables themselves hold these ids: a table read wrongly here cannot pass as an empty one.
      const ids = exported.models.map((model) => model.modelId);
      for (const id of exported.some) expect(ids).toContain(id);

      const json = await runCli(['models', '--provider', provider, '--json']);
      expect(json.stderr).toBe('');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(exported.models);

      const text = await runCli(['models', '--provider', provider]);
      expect(text.stderr).toBe('');
      expect(text.code).toBe(0);
      const lines = text.stdout.split('\n').filter((line) => line !== '');
      expect(lines[0]).toBe(`${provider} (@embedkit/provider-${provider})`);
      expect(lines[1]).toMatch(/^ {2}MODEL +KIND +DIMENSIONS /);
      expect(lines.slice(2).map((line) => line.trim().split(/ {2,}/).slice(0, 2))).toEqual(
        exported.models.map((model) => [model.modelId, model.kind]),
      );
    });
  }

  it('a provider name that is a typo is answered with the real one and its package', async () => {
    const result = await runCli(['models', '--provider', 'voyag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^embedkit: error: There is no "voyag" provider\. Did you mean "voyage"\? \(npm install @embedkit\/provider-voyage\)\n/,
    );
    expect(result.stderr).not.toContain('@embedkit/provider-voyag)');
  });

  it('without --provider lists every installed provider with its models', async () => {
    const result = await runCli(['models']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^openai \(@embedkit\/provider-openai\)\n/);
    expect(result.stdout).not.toContain('the package lists no models');
    // The four are installed here (this file imports their tables): each is listed with every model.
    for (const provider of Object.keys(EXPORTED)) {
      expect(result.stdout, provider).toContain(`${provider} (@embedkit/provider-${provider})\n  MODEL `);
      expect(result.stderr, provider).not.toContain(`${provider}: `);
    }
    const json = await runCli(['models', '--json']);
    expect(json.code).toBe(0);
    const models = JSON.parse(json.stdout) as Listed[];
    for (const [provider, exported] of Object.entries(EXPORTED)) {
      expect(
        models.filter((model) => model.provider === provider),
        provider,
      ).toEqual(exported.models);
    }
  });
});
