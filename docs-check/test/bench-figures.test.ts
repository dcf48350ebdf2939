/**
 * The AI SDK interop figures the READMEs quote are those of the latest peer comparison in
 * bench/results/latest.md: each cell's client CPU, its ratio, the range and the run they come from.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

const results = read('bench/results/latest.md');
const peers = results.slice(results.indexOf('## Peer comparison ('));
const run = /^## Peer comparison \(([^)]+)\)/.exec(peers)![1]!;
const openAIWire = peers.slice(peers.indexOf('### OpenAI wire'));

/** A row of the OpenAI wire's client CPU table, as numbers; its header gives the cells. */
function cpuRow(client: string): number[] {
  const line = openAIWire.split('\n').find((row) => row.startsWith(`| ${client} |`))!;
  return line
    .split('|')
    .slice(2, -1)
    .map((cell) => Number(cell.replaceAll(/[*,]/g, '').trim())); // `1,052.5*`: a marked cell of a thousand or more
}
const cells = openAIWire
  .split('\n')
  .find((row) => row.startsWith('| client |'))!
  .split('|')
  .slice(2, -1)
  .map((cell) => cell.trim());
const overAISDK = cpuRow('AI SDK (ai + @ai-sdk/openai)');
const overEmbedkit = cpuRow('AI SDK over embedkit (ai + toAISDK)');
const ratios = overAISDK.map((cpu, index) => cpu / overEmbedkit[index]!);
const geometricMean = Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length);

describe(`the AI SDK interop figures, from the peer comparison of ${run}`, () => {
  it('are the eight cells of the run', () => {
    expect(cells).toHaveLength(8);
    expect(ratios.every((ratio) => Number.isFinite(ratio) && ratio > 1)).toBe(true);
  });

  it('are quoted cell by cell in packages/ai-sdk/README.md, with the run named', () => {
    const readme = read('packages/ai-sdk/README.md');
    const prose = readme.replaceAll(/\s+/g, ' ');
    expect(prose).toContain(`peer comparison of ${run}`);
    cells.forEach((cell, index) => {
      const row = new RegExp(
        `^\\| ${cell.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\| +${overAISDK[index]!.toFixed(1)} ms \\| +${overEmbedkit[index]!.toFixed(1)} ms \\| +${ratios[index]!.toFixed(2)}x \\|$`,
        'm',
      );
      expect(readme).toMatch(row);
    });
    expect(prose).toContain(
      `At least ${Math.min(...ratios).toFixed(1)} times less client CPU in every cell (geometric mean ${geometricMean.toFixed(1)}x)`,
    );
  });

  it('are quoted as a range in the root README, with the run named', () => {
    const readme = read('README.md').replaceAll(/\s+/g, ' ');
    expect(readme).toContain(
      `spends ${Math.min(...ratios).toFixed(1)} to ${Math.max(...ratios).toFixed(1)} times less client CPU than over \`@ai-sdk/openai\` on the same wire (peer comparison of ${run}`,
    );
  });
});
