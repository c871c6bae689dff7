/**
 * Checks that TypeScript sources can run both in a Web Worker and in Node, on the real program:
 * every static, dynamic (`import()`) and `require()` module specifier is resolved, and every identifier
 * in a value position is bound by the type checker, so neither `import('node:fs')`, `fs/promises`,
 * `process.env` nor `document.body` can slip past a pattern.
 *
 * What is a problem:
 *  - a Node built-in module (`node:*`, or any name in `module.builtinModules`, subpaths included);
 *  - a relative import that leaves the checked folder (the core may not import the CLI or the viewer);
 *  - a package that is not on the caller's allow-list (browser-safe packages only);
 *  - a module specifier that is not a string literal (it cannot be checked);
 *  - a global whose every declaration is in @types/node (process, Buffer, __dirname, require, ...);
 *  - a global whose every declaration is in lib.dom.d.ts (document, window, localStorage, ...): a worker
 *    has none of them. Globals that a worker also has (fetch, self, performance) are declared in
 *    lib.webworker.d.ts too and pass.
 * Type-only imports and type positions are skipped: they leave no trace at run time.
 */
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface NeutralityProblem {
  file: string;
  line: number;
  what: string;
}

export interface NeutralityOptions {
  /** Every source must stay inside this folder (relative imports). */
  root: string;
  /** Files to check (absolute paths). */
  files: string[];
  /** Package names (or name prefixes ending in '/') the sources may import. */
  allowedPackages: string[];
  /** tsconfig.json whose compiler options to use. */
  tsconfig: string;
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  return NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0]);
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function compilerOptions(tsconfig: string): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${tsconfig}`);
  return { ...parsed.options, noEmit: true };
}

type DeclarationOrigin = 'node' | 'dom-only' | 'other';

function declarationOrigin(symbol: ts.Symbol | undefined): DeclarationOrigin {
  const files = (symbol?.declarations ?? []).map((d) => d.getSourceFile().fileName.split(sep).join('/'));
  if (!files.length) return 'other';
  if (files.every((f) => f.includes('/@types/node/'))) return 'node';
  if (files.every((f) => /\/lib\.dom(\.iterable)?\.d\.ts$/.test(f))) return 'dom-only';
  return 'other';
}

/** True for the identifiers that name a property or a declaration rather than refer to a binding. */
function isNameNotReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return true;
  if (ts.isQualifiedName(parent) && parent.right === node) return true;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent)
    || ts.isPropertySignature(parent) || ts.isGetAccessor(parent) || ts.isSetAccessor(parent)
    || ts.isEnumMember(parent) || ts.isBindingElement(parent)) && parent.name === node) return true;
  return false;
}

export function checkPlatformNeutral(options: NeutralityOptions): NeutralityProblem[] {
  const program = ts.createProgram({ rootNames: options.files, options: compilerOptions(options.tsconfig) });
  const checker = program.getTypeChecker();
  const root = resolve(options.root);
  const problems: NeutralityProblem[] = [];

  for (const fileName of options.files) {
    const source = program.getSourceFile(fileName);
    if (!source) throw new Error(`${fileName} is not part of the program`);
    const report = (node: ts.Node, what: string) =>
      problems.push({ file: relative(root, fileName), line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, what });

    const checkSpecifier = (node: ts.Node, specifier: ts.Expression | undefined) => {
      if (!specifier || !ts.isStringLiteralLike(specifier)) return report(node, 'module specifier is not a string literal');
      const name = specifier.text;
      if (isNodeBuiltin(name)) return report(node, `imports the Node built-in "${name}"`);
      if (name.startsWith('.')) {
        const target = resolve(dirname(fileName), name);
        if (target !== root && !target.startsWith(root + sep)) report(node, `imports "${name}", outside ${relative(process.cwd(), root)}`);
        return;
      }
      const pkg = packageName(name);
      if (!options.allowedPackages.some((allowed) => allowed === pkg || allowed === name || (allowed.endsWith('/') && name.startsWith(allowed)))) {
        report(node, `imports the package "${name}", which is not on the browser-safe list`);
      }
    };

    const visit = (node: ts.Node): void => {
      if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
      if (ts.isImportDeclaration(node)) {
        if (!node.importClause?.isTypeOnly) checkSpecifier(node, node.moduleSpecifier);
        return;
      }
      if (ts.isExportDeclaration(node)) {
        if (node.moduleSpecifier && !node.isTypeOnly) checkSpecifier(node, node.moduleSpecifier);
        return;
      }
      if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
        checkSpecifier(node, node.moduleReference.expression);
        return;
      }
      if (ts.isCallExpression(node)) {
        if (node.expression.kind === ts.SyntaxKind.ImportKeyword) checkSpecifier(node, node.arguments[0]);
        else if (ts.isIdentifier(node.expression) && node.expression.text === 'require') checkSpecifier(node, node.arguments[0]);
      }
      if (ts.isIdentifier(node) && !isNameNotReference(node)) {
        const origin = declarationOrigin(checker.getSymbolAtLocation(node));
        if (origin === 'node') report(node, `uses the Node global "${node.text}"`);
        if (origin === 'dom-only') report(node, `uses the DOM global "${node.text}", which a worker does not have`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return problems;
}

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const REPO_TSCONFIG = join(REPO_ROOT, 'tsconfig.json');
