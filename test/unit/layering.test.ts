/**
 * Dependencies point one way: contracts/ at the bottom (zod and types only), workflows/,
 * activities/ and simulators/ on it without reaching into each other, client/ on top. Reads the
 * import statements of the source files; a violation names the file and the import.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Import {
  from: string;
  /** Path from the repository root (relative specifiers), or the package name. */
  target: string;
  local: boolean;
  typeOnly: boolean;
  /** import(): loaded when called, not with the module. */
  dynamic: boolean;
  line: number;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function onlyTypes(names: ts.NamedImportBindings | ts.NamedExportBindings | undefined): boolean {
  return names !== undefined && 'elements' in names && names.elements.length > 0 && names.elements.every((e) => e.isTypeOnly);
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean, dynamic = false) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const local = specifier.text.startsWith('.');
    const target = local
      ? relative(root, resolve(dirname(join(root, file)), specifier.text))
          .split(sep)
          .join('/')
      : specifier.text;
    found.push({ from: file, target, local, typeOnly, dynamic, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      add(node, node.moduleSpecifier, clause !== undefined && (clause.isTypeOnly || (!clause.name && onlyTypes(clause.namedBindings))));
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly || onlyTypes(node.exportClause));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false, true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const layerOf = (path: string) => path.split('/')[0]!;
const show = (i: Import) => `${i.from}:${i.line} imports ${i.typeOnly ? 'type-only ' : ''}${i.target}`;

function violations(layers: string[], refused: (i: Import) => boolean): string[] {
  // A layer without files (renamed, moved) would pass unseen.
  for (const layer of layers) assert.ok(sourceFiles(layer).length > 0, `no source files in ${layer}/`);
  return layers.flatMap(sourceFiles).flatMap(importsOf).filter(refused).map(show);
}

test('workflows import no client code, and activities for their types only', () => {
  const found = violations(['workflows'], (i) => i.local && (layerOf(i.target) === 'client' || (layerOf(i.target) === 'activities' && !i.typeOnly)));
  assert.deepEqual(found, [], 'workflow code is bundled into the sandbox: it may use contracts/ and workflow-safe shared code');
});

test('activities and simulators import nothing from workflows', () => {
  const found = violations(['activities', 'simulators'], (i) => i.local && layerOf(i.target) === 'workflows');
  assert.deepEqual(found, [], 'what a workflow and its activities or simulator share belongs in contracts/');
});

test('nothing outside client/ imports it but tests, bench, chaos, scripts and the bin/ launcher', () => {
  const found = violations(['contracts', 'workflows', 'activities', 'simulators', 'workers', 'lib'], (i) => i.local && layerOf(i.target) === 'client');
  assert.deepEqual(found, [], 'client/ is the top layer');
});

test('contracts import only zod, other contracts, and types', () => {
  const found = violations(['contracts'], (i) => !i.typeOnly && (i.local ? layerOf(i.target) !== 'contracts' : i.target !== 'zod'));
  assert.deepEqual(found, [], 'contracts are loaded by workflows, activities, clients and simulators alike: they must stay pure');
});

test('the fleet and scheduled workflows build no schema but their own input when their module loads', () => {
  // What loading a module runs: its static value imports, transitively.
  const loaded = (start: string): string[] => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const i of importsOf(file).filter((i) => i.local && !i.typeOnly && !i.dynamic)) {
        const resolved = [`${i.target}.ts`, `${i.target}/index.ts`, i.target].find((p) => existsSync(join(root, p)) && statSync(join(root, p)).isFile());
        if (resolved) visit(resolved);
      }
    };
    visit(start);
    return [...seen];
  };
  const buildsSchemas = (file: string) => importsOf(file).some((i) => i.target === 'zod' && !i.typeOnly);
  for (const [workflow, ownInput] of [
    ['workflows/fleet-backup.ts', 'contracts/fleet/input.ts'],
    ['workflows/scheduled-backup.ts', 'contracts/schedule/input.ts'],
  ] as const) {
    const others = loaded(workflow).filter((f) => buildsSchemas(f) && f !== ownInput);
    assert.deepEqual(others, [], `${workflow} loads these schema modules with it, for every run (the lazy workflow index loads a vendor's schemas only for its own runs)`);
  }
});
