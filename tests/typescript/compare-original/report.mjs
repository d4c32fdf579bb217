// Compiles compare.ts with the TypeScript compiler API and prints, per
// procedure of the original router, whether our kind/input/output match, and
// where they differ. Used by run.sh:
//   node report.mjs TSCONFIG COMPARE_TS ORIGINAL_COPY_DIR
// TypeScript is loaded from the node_modules next to TSCONFIG.
import { createRequire } from "node:module";
import path from "node:path";

const [tsconfigPath, comparePath, originalDir] = process.argv.slice(2);
const require = createRequire(path.join(path.dirname(tsconfigPath), "package.json"));
const ts = require("typescript");
const showTypes = !!process.env.COMPARE_SHOW_TYPES;

const config = ts.getParsedCommandLineOfConfigFile(tsconfigPath, {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  },
});
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
const checker = program.getTypeChecker();

// ── compile errors, grouped by where they are ───────────────────────────────
const compareFile = path.resolve(comparePath);
const inOriginal = (f) => f.startsWith(path.resolve(originalDir) + path.sep);
const groups = { original: [], compare: [], ours: [] };
for (const d of ts.getPreEmitDiagnostics(program)) {
  const file = d.file ? path.resolve(d.file.fileName) : "";
  const group = !file ? "ours" : inOriginal(file) ? "original" : file === compareFile ? "compare" : "ours";
  groups[group].push(d);
}
const host = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => "\n",
};
const clip = (s, n = 400) => (showTypes || s.length <= n ? s : `${s.slice(0, n)}… (COMPARE_SHOW_TYPES=1 for all)`);
if (groups.original.length) {
  console.log(`\n!! ${groups.original.length} error(s) in the original's own source: the harness setup is incomplete, results below may be wrong`);
  console.log(clip(ts.formatDiagnostics(groups.original.slice(0, 10), host), 4000));
}
if (groups.ours.length) {
  console.log(`\n!! ${groups.ours.length} error(s) in our types (or a library):`);
  console.log(ts.formatDiagnostics(groups.ours, host));
}
if (groups.compare.length) {
  console.log(`\n${groups.compare.length} failed assertion(s) in compare.ts:`);
  for (const d of groups.compare) {
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const first = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")[0];
    console.log(`  compare.ts:${line + 1}: ${clip(first, 300)}`);
  }
}

// ── reading the Report types back ───────────────────────────────────────────
const sourceFile = program.getSourceFile(comparePath);
const aliasType = (name) => {
  const decl = sourceFile.statements.find((s) => ts.isTypeAliasDeclaration(s) && s.name.text === name);
  if (!decl) throw new Error(`compare.ts has no type ${name}`);
  return checker.getTypeAtLocation(decl.name);
};
const str = (t) => checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation);
const prop = (t, name) => {
  const p = checker.getPropertyOfType(t, name);
  return p && checker.getTypeOfSymbol(p);
};
/** "ok" / "n/a" / "missing in ours", or { original, ours } */
const verdict = (t) => {
  if (t.isStringLiteral()) return t.value;
  return { original: prop(t, "original"), ours: prop(t, "ours") };
};

// ── a readable structural diff of two types ────────────────────────────────
const isAny = (t) => (t.flags & ts.TypeFlags.Any) !== 0;
const same = (a, b) => isAny(a) || isAny(b) || (checker.isTypeAssignableTo(a, b) && checker.isTypeAssignableTo(b, a));
const members = (t) => (t.isUnion() ? t.types : [t]);
const isArray = (t) => checker.isArrayType(t) || checker.isTupleType(t);
const isLibType = (t) =>
  (t.getSymbol()?.getDeclarations() ?? []).some((d) => program.isSourceFileDefaultLibrary(d.getSourceFile()));
const isObject = (t) =>
  !isArray(t) &&
  (t.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) !== 0 &&
  t.getCallSignatures().length === 0 &&
  !isLibType(t); // Date & co. are leaves
const elementOf = (t) => checker.getIndexTypeOfType(t, ts.IndexKind.Number) ?? checker.getAnyType();

function diff(a, b, where, out, depth = 0) {
  if (isAny(a) || isAny(b)) return;
  const am = members(a);
  const bm = members(b);
  const aObj = am.filter(isObject);
  const bObj = bm.filter(isObject);
  const aArr = am.filter(isArray);
  const bArr = bm.filter(isArray);
  const aLeaf = am.filter((t) => !isObject(t) && !isArray(t));
  const bLeaf = bm.filter((t) => !isObject(t) && !isArray(t));
  const at = where || "(top)";
  const before = out.length;

  // leaves (scalars, literals, null, Date...): each must have a counterpart
  const onlyA = aLeaf.filter((x) => !bLeaf.some((y) => same(x, y)));
  const onlyB = bLeaf.filter((y) => !aLeaf.some((x) => same(x, y)));
  // boolean is true | false: report it whole
  if (onlyA.length || onlyB.length) {
    out.push(`${at}: original ${clip(aLeaf.map(str).join(" | ") || "(no scalar)", 160)}; ours ${clip(bLeaf.map(str).join(" | ") || "(no scalar)", 160)}`);
  }

  if (aObj.length === 1 && bObj.length === 1 && depth < 12) {
    const [x] = aObj;
    const [y] = bObj;
    const xp = new Map(checker.getPropertiesOfType(x).map((p) => [p.name, p]));
    const yp = new Map(checker.getPropertiesOfType(y).map((p) => [p.name, p]));
    for (const [name, p] of xp) {
      const q = yp.get(name);
      const here = where ? `${where}.${name}` : name;
      if (!q) {
        out.push(`${here}: only in original (${clip(str(checker.getTypeOfSymbol(p)), 160)})`);
        continue;
      }
      const po = (p.flags & ts.SymbolFlags.Optional) !== 0;
      const qo = (q.flags & ts.SymbolFlags.Optional) !== 0;
      if (po !== qo) out.push(`${here}: ${po ? "optional" : "required"} in original, ${qo ? "optional" : "required"} in ours`);
      diff(checker.getTypeOfSymbol(p), checker.getTypeOfSymbol(q), here, out, depth + 1);
    }
    for (const [name, q] of yp) {
      if (!xp.has(name)) out.push(`${where ? `${where}.${name}` : name}: only in ours (${clip(str(checker.getTypeOfSymbol(q)), 160)})`);
    }
  } else if (aObj.length || bObj.length) {
    const ao = aObj.map(str).join(" | ");
    const bo = bObj.map(str).join(" | ");
    if (aObj.length !== bObj.length || !aObj.every((x) => bObj.some((y) => same(x, y)))) {
      out.push(`${at}: object part differs: original ${clip(ao || "(none)", 300)}; ours ${clip(bo || "(none)", 300)}`);
    }
  }

  if (aObj.length === 1 && bObj.length === 1 && depth < 12) {
    // index signatures ({ [k: string]: T }) are not properties
    for (const kind of [ts.IndexKind.String, ts.IndexKind.Number]) {
      // a string index signature also applies to number keys
      const index = (t) => checker.getIndexTypeOfType(t, kind) ?? checker.getIndexTypeOfType(t, ts.IndexKind.String);
      const x = index(aObj[0]);
      const y = index(bObj[0]);
      const key = kind === ts.IndexKind.String ? "[string]" : "[number]";
      if (!x !== !y) out.push(`${where}${key}: index signature only in ${x ? "original" : "ours"}`);
      else if (x && y) diff(x, y, `${where}${key}`, out, depth + 1);
    }
  }

  if (aArr.length === 1 && bArr.length === 1 && depth < 12) {
    diff(elementOf(aArr[0]), elementOf(bArr[0]), `${where}[]`, out, depth + 1);
  } else if (aArr.length !== bArr.length) {
    out.push(`${at}: array part differs: original ${clip(aArr.map(str).join(" | ") || "(none)", 200)}; ours ${clip(bArr.map(str).join(" | ") || "(none)", 200)}`);
  }
  // nothing more specific found: say so at this level
  if (out.length === before && !same(a, b)) {
    out.push(`${at}: original ${clip(str(a), 300)}; ours ${clip(str(b), 300)}`);
  }
  return out.length > before;
}

function describe(v, label) {
  if (typeof v === "string") return [];
  const lines = [];
  diff(v.original, v.ours, "", lines);
  if (!lines.length) lines.push(`types differ: original ${clip(str(v.original))}; ours ${clip(str(v.ours))}`);
  if (showTypes) {
    lines.push(`original: ${str(v.original)}`, `ours:     ${str(v.ours)}`);
  }
  return lines.map((l) => `    ${label}: ${l}`);
}

// ── the table ────────────────────────────────────────────────────────────────
const report = aliasType("Report");
const rows = checker
  .getPropertiesOfType(report)
  .map((p) => [p.name, checker.getTypeOfSymbol(p)])
  .sort(([a], [b]) => a.localeCompare(b));
if (!rows.length) {
  console.log("\n!! the original router has no procedures: the harness is broken");
  process.exit(2);
}
const word = (v) => (typeof v !== "string" ? "MISMATCH" : v === "missing in ours" ? "MISSING" : v === "n/a" ? "-" : v);
const width = Math.max(...rows.map(([n]) => n.length));
let bad = 0;
let routerBad = 0;
console.log(`\nprocedure${" ".repeat(width - 9)}  kind      input     output`);
for (const [name, t] of rows) {
  const kind = verdict(prop(t, "kind"));
  const input = verdict(prop(t, "input"));
  const output = verdict(prop(t, "output"));
  const ok = kind === "ok" && input === "ok" && output === "ok";
  if (!ok) bad++;
  console.log(`${name.padEnd(width)}  ${word(kind).padEnd(8)}  ${word(input).padEnd(8)}  ${word(output)}`);
  if (typeof kind !== "string") console.log(`    kind: original ${str(kind.original)}, ours ${str(kind.ours)}`);
  for (const l of [...describe(input, "input"), ...describe(output, "output")]) console.log(l);
}

const extra = aliasType("ProceduresOnlyInOurs");
const extras = extra.flags & ts.TypeFlags.Never ? [] : members(extra).map((t) => (t.isStringLiteral() ? t.value : str(t)));
if (extras.length) console.log(`\nonly in ours (${extras.length}): ${extras.sort().join(", ")}`);

const router = aliasType("RouterReport");
for (const key of ["transformer", "errorShape"]) {
  const v = verdict(prop(router, key));
  console.log(`\nrouter ${key}: ${word(v)}`);
  for (const l of describe(v, key)) console.log(l);
  if (typeof v !== "string") routerBad++;
}

console.log(`\n${rows.length} procedures in the original: ${rows.length - bad} ok, ${bad} with differences; ${extras.length} only in ours; ${routerBad} router-level difference(s)`);
const failed = bad > 0 || routerBad > 0 || extras.length > 0 || groups.original.length || groups.ours.length;
process.exit(failed ? 1 : 0);
