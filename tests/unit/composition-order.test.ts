import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const PIER_FILE = join(import.meta.dir, "..", "..", "src", "pier.ts");

/**
 * Every use, in `openPier` (closures included), of one of its own variables before the line that
 * declares it, as "name (line n, declared at line m)". The type check lets a closure refer to a
 * later `const`, which then throws if it is called before that line has run: reordering such
 * lines type-checks and fails only at run time.
 */
function usesBeforeDeclaration(source: string): string[] {
  const name = "/pier.ts";
  const host = ts.createCompilerHost({});
  host.getSourceFile = (fileName, version) => (fileName === name ? ts.createSourceFile(fileName, source, version, true) : undefined);
  const program = ts.createProgram([name], { noResolve: true, noLib: true, types: [] }, host);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(name)!;
  const openPier = file.statements.find((node): node is ts.FunctionDeclaration => ts.isFunctionDeclaration(node) && node.name?.text === "openPier");
  if (!openPier?.body) throw new Error("no function openPier");
  const own = new Set<ts.Declaration>();
  for (const statement of openPier.body.statements) {
    if (ts.isVariableStatement(statement)) for (const declaration of statement.declarationList.declarations) own.add(declaration);
  }
  const line = (position: number) => file.getLineAndCharacterOfPosition(position).line + 1;
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const symbol = ts.isShorthandPropertyAssignment(node.parent) ? checker.getShorthandAssignmentValueSymbol(node.parent) : checker.getSymbolAtLocation(node);
      const declaration = symbol?.valueDeclaration;
      if (declaration && own.has(declaration) && node !== (declaration as ts.VariableDeclaration).name && node.getStart(file) < declaration.end) {
        found.push(`${node.text} (line ${line(node.getStart(file))}, declared at line ${line(declaration.getStart(file))})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(openPier.body);
  return found;
}

test("openPier builds each part after what it needs: no part refers to one declared later, even in a closure", () => {
  expect(usesBeforeDeclaration(readFileSync(PIER_FILE, "utf8"))).toEqual([]);
});

test("the order check finds a closure's use of a later const, and takes uses after the declaration", () => {
  const source = [
    "export async function openPier() {",
    "  const a = { f: () => b, g: 1 };",
    "  const b = { a, h: () => a.g };",
    "  return { a, b };",
    "}",
  ].join("\n");
  expect(usesBeforeDeclaration(source)).toEqual(["b (line 2, declared at line 3)"]);
});
