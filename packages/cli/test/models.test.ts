import { OPENAI_MODELS } from '@embedkit/provider-openai';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

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

  it('a provider name that is a typo is answered with the real one and its package', async () => {
    const result = await runCli(['models', '--provider', 'voyag']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^embedkit: error: There is no "voyag" provider\. Did you mean "voyage"\? \(npm install @embedkit\/provider-voyage\)\n/,
    );
    expect(result.stderr).not.toContain('@embedkit/provider-voyag)');
  });

  it('without --provider lists every installed provider (OpenAI at least) and notes the others', async () => {
    const result = await runCli(['models']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^openai \(@embedkit\/provider-openai\)\n/);
    // Voyage, Gemini and Jina may or may not be installed (built) here; each is either listed or noted.
    for (const provider of ['voyage', 'gemini', 'jina']) {
      const listed = result.stdout.includes(`${provider} (@embedkit/provider-${provider})`);
      const noted = result.stderr.includes(`${provider}: `);
      expect(listed || noted, provider).toBe(true);
    }
  });
});
