import ts from 'typescript';

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
