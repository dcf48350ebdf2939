import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { expect } from 'vitest';

/**
 * A program over `files` compiled as a reader's project would compile them: strict, with indexed access
 * checked, resolving the packages by their names to their published types; `options` adds to that (e.g.
 * `exactOptionalPropertyTypes`).
 */
export function readerProgram(files: readonly string[], options: ts.CompilerOptions = {}): ts.Program {
  return ts.createProgram(files, {
    ...options,
    strict: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
}

/** The syntax and type errors of one file of `program`. */
export function diagnosticsOf(program: ts.Program, file: string): readonly ts.Diagnostic[] {
  const source = program.getSourceFile(file)!;
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
}

/** A compiler error as a test reads it: its code and its message on one line. */
export type Found = [code: number, message: string][];

/**
 * Compiles consumer modules, given by name and code, as `readerProgram` does with `options`, each its own
 * file (`case-<n><extension>`) in `directory`, and returns each one's errors by name. The directory is
 * made anew and removed once compiled: beside a test, the packages resolve by their names through the
 * workspace's node_modules; elsewhere, `options.paths` points a name at the sources. Used by
 * packages/core's type tests too, which import it by its path.
 */
export function compileConsumers(
  directory: string,
  modules: Iterable<readonly [name: string, code: string]>,
  options: ts.CompilerOptions,
  extension = '.ts',
): Map<string, Found> {
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  try {
    const files = [...modules].map(([name, code], index) => {
      const file = join(directory, `case-${index}${extension}`);
      writeFileSync(file, `${code}\nexport {};\n`);
      return { name, file };
    });
    const program = readerProgram(
      files.map(({ file }) => file),
      options,
    );
    return new Map(
      files.map(({ name, file }) => [
        name,
        diagnosticsOf(program, file).map((diagnostic): Found[number] => [
          diagnostic.code,
          ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
        ]),
      ]),
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * That a module got exactly `errors`, in source order: each error's code, and words its message holds
 * (none for a module that must compile). A failure shows every error found.
 */
export function expectErrors(found: Found | undefined, errors: readonly [number, string][] = []): void {
  expect(
    found?.map(([code]) => code),
    JSON.stringify(found),
  ).toEqual(errors.map(([code]) => code));
  errors.forEach(([, words], index) => {
    expect(found![index]![1]).toContain(words);
  });
}
