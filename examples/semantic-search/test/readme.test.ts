/**
 * The root README's quickstart compiles as written, with no casts: the types follow the call
 * (`embedMany` returns `Float32Array[]`, which `topK` takes as is).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const README = new URL('../../../README.md', import.meta.url);

/** The code blocks of `language` under the heading `title`, up to the next heading of that level. */
function blocks(markdown: string, title: string, language: string): string[] {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (match) => match[1]!,
  );
}

it('the quickstart typechecks under strict settings, with no `as`', () => {
  const [quickstart] = blocks(readFileSync(README, 'utf8'), 'Quickstart', 'ts');
  expect(quickstart).toBeDefined();
  expect(quickstart).toContain('topK(');
  expect(quickstart).not.toMatch(/\bas\s+[A-Z]/);
  const directory = join(import.meta.dirname, '.generated');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, 'quickstart.ts');
  writeFileSync(file, `${quickstart}\nexport {};\n`);
  const program = ts.createProgram([file], {
    strict: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  expect(diagnostics).toEqual([]);
}, 120_000);
