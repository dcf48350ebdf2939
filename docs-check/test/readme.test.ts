/**
 * Every ```ts / ```typescript block of every README.md in the repository compiles as a reader would
 * paste it: each block is its own module, in `.generated/` beside this file (so the packages resolve by
 * their names, through the workspace's node_modules, to their published types), type-checked under
 * strict settings, and again with `exactOptionalPropertyTypes` as well, which demanding codebases turn on. A failure names the README, the line of the block's opening fence and the
 * diagnostics, at their README lines.
 *
 * The rule for README authors: a block imports everything it uses, by package name, as a reader's file
 * would. It may use three names without declaring them, standing for what the reader already has from
 * the text or an earlier block: `model` (an embedkit `EmbeddingModel`), and `documents` and `inputs`
 * (`string[]`); a block that declares one of them uses its own. No value in a block may be `any` (an
 * import that resolved to nothing would otherwise pass unchecked), and every `@embedkit/*` package a
 * block imports is a dependency of this workspace (docs-check), so that `npm test` builds it first.
 *
 * The root README's quickstart also compiles with no casts: the types follow the call (`embedMany`
 * returns `Float32Array[]`, which `topK` takes as is).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, expect, it } from 'vitest';
import { diagnosticsOf, readerProgram } from './reader-program.js';
import { type Block, blocksOf, readmes } from './readme-blocks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATED = join(import.meta.dirname, '.generated');
const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

/** The names a block may use without declaring them (see the rule above): global, so a block's own win. */
const PLACEHOLDERS = `declare const model: import('@embedkit/core').EmbeddingModel;
declare const documents: string[];
declare const inputs: string[];
`;

const BLOCKS = readmes(ROOT)
  .sort()
  .flatMap((path) => blocksOf(path, ROOT, GENERATED));

/** The reader's compiler settings: strict, and strict with `exactOptionalPropertyTypes`. */
const SETTINGS: { label: string; options: ts.CompilerOptions }[] = [
  { label: '', options: {} },
  { label: ' (exactOptionalPropertyTypes)', options: { exactOptionalPropertyTypes: true } },
];
/** Each block's problems, found before the tests so that the type-checking runs under one timeout. */
const PROBLEMS = new Map<Block, string[]>();

beforeAll(() => {
  rmSync(GENERATED, { recursive: true, force: true });
  mkdirSync(GENERATED, { recursive: true });
  const placeholders = join(GENERATED, 'placeholders.d.ts');
  writeFileSync(placeholders, PLACEHOLDERS);
  // `export {}` makes a block without imports a module too, so top-level `await` and names stay its own.
  for (const block of BLOCKS) writeFileSync(block.file, `${block.code}\nexport {};\n`);
  for (const block of BLOCKS) PROBLEMS.set(block, []);
  for (const { label, options } of SETTINGS) {
    const program = readerProgram([placeholders, ...BLOCKS.map((block) => block.file)], options);
    const setup = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSemanticDiagnostics(program.getSourceFile(placeholders)),
    ];
    if (setup.length > 0) {
      const messages = setup.map((diagnostic) =>
        ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
      );
      throw new Error(`the compiler setup has errors of its own: ${messages.join('; ')}`);
    }
    for (const block of BLOCKS) PROBLEMS.get(block)!.push(...problems(program, block, label));
  }
}, 120_000);

/**
 * What is wrong with one block, each at its README line (and `label`, the settings it was checked under):
 * diagnostics, `any` values, unbuilt imports.
 */
function problems(program: ts.Program, block: Block, label: string): string[] {
  const source = program.getSourceFile(block.file)!;
  const at = (position: number) =>
    `${block.readme}:${block.line + source.getLineAndCharacterOfPosition(position).line + 1}${label}`;
  const found = diagnosticsOf(program, block.file).map(
    (diagnostic) =>
      `${at(diagnostic.start ?? 0)} TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`,
  );
  const checker = program.getTypeChecker();
  // Only once it compiles: a name the compiler cannot find is also `any`, and would be said twice.
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && checker.getTypeAtLocation(node).flags & ts.TypeFlags.Any) {
      found.push(`${at(node.getStart(source))} \`${node.text}\` is any`);
    }
    ts.forEachChild(node, visit);
  };
  if (found.length === 0) visit(source);
  const dependencies = { ...PACKAGE.dependencies, ...PACKAGE.devDependencies };
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const name = statement.moduleSpecifier.text.split('/').slice(0, 2).join('/');
    if (name.startsWith('@embedkit/') && !(name in dependencies)) {
      found.push(`${at(statement.getStart(source))} ${name} is not a dependency of docs-check`);
    }
  }
  return found;
}

it('finds the TypeScript blocks of the READMEs', () => {
  expect(BLOCKS.length).toBeGreaterThan(20);
  expect(new Set(BLOCKS.map((block) => block.readme))).toContain('packages/core/README.md');
});

for (const block of BLOCKS) {
  it(`${block.readme}:${block.line} (${block.heading}) typechecks`, () => {
    expect(PROBLEMS.get(block), `the block at ${block.readme}:${block.line}`).toEqual([]);
  });
}

it('the quickstart calls topK, with no `as`', () => {
  const quickstart = BLOCKS.find((block) => block.readme === 'README.md' && block.heading === 'Quickstart');
  expect(quickstart).toBeDefined();
  expect(quickstart!.code).toContain('topK(');
  expect(quickstart!.code).not.toMatch(/\bas\s+[A-Z]/);
});
