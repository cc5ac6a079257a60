/**
 * Espruino does not hoist. Measured on the 2v29 interpreter: inside a function, `x = 5; var x;`
 * writes the OUTER `x`, and calling a function declared further down the same function body is a
 * ReferenceError. JavaScript hoists both, so V8 (and the simulated board) never notices; the
 * minifier, which freely reuses short names in nested scopes, then produces code that clobbers
 * an outer binding on the board. (It did: the inlined reading encoder's `v = charCodeAt(...)`,
 * declared `var v` further down, overwrote the temperature sensor function `v` after the first
 * reading.)
 *
 * `earlyUses` finds every identifier used in a function's own body (not in nested functions,
 * whose calls cannot be ordered statically) textually before that function declares it with
 * `var` or a function declaration. `hoistEarlyVars` fixes the `var` cases by declaring those
 * names at the top of their function (`var v;`, a few bytes each) — what hoisting would have
 * done; an early use of a function declaration is left for the check to report. Node-only.
 */
import { parse } from 'acorn';

interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

/** One use before declaration. */
export interface EarlyUse {
  readonly name: string;
  /** Where the use is (character offset in the bundle). */
  readonly at: number;
  /** `var` (fixable by declaring it first) or `function` (a declaration further down). */
  readonly kind: 'var' | 'function';
  /** Offset just after the `{` of the function body that declares the name. */
  readonly bodyStart: number;
}

interface Scope {
  readonly node: Node | null;
  readonly fn: boolean;
  readonly bodyStart: number;
  /** name → [first declaration offset, kind]; params at offset -1. */
  readonly names: Map<string, [number, 'param' | 'var' | 'function' | 'catch']>;
  readonly parent: Scope | null;
}

const isFn = (n: Node): boolean => n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression';

function children(n: Node): Node[] {
  const out: Node[] = [];
  for (const key of Object.keys(n)) {
    if (key === 'type' || key === 'start' || key === 'end') continue;
    const v = n[key];
    if (Array.isArray(v)) for (const c of v) if (c && typeof (c as Node).type === 'string') out.push(c as Node);
    if (v && typeof v === 'object' && typeof (v as Node).type === 'string') out.push(v as Node);
  }
  return out;
}

function declare(scope: Scope, name: string, at: number, kind: 'param' | 'var' | 'function' | 'catch'): void {
  const prev = scope.names.get(name);
  if (!prev || (prev[1] !== 'param' && at < prev[0])) scope.names.set(name, [at, kind]);
}

/** Collects the declarations of one function (or the program) into `scope`, not descending into nested functions. */
function collect(body: Node, scope: Scope): void {
  const visit = (n: Node): void => {
    if (n.type === 'VariableDeclaration') {
      for (const d of n['declarations'] as Node[]) declare(scope, (d['id'] as Node)['name'] as string, (d['id'] as Node).start, 'var');
    } else if (n.type === 'FunctionDeclaration') {
      declare(scope, (n['id'] as Node)['name'] as string, n.start, 'function');
      return;
    } else if (n.type === 'FunctionExpression') {
      return;
    }
    for (const c of children(n)) visit(c);
  };
  visit(body);
}

/** Uses before declaration in an ES5 program text (see the module comment). */
export function earlyUses(text: string): EarlyUse[] {
  const ast = parse(text, { ecmaVersion: 5, sourceType: 'script' }) as unknown as Node;
  const found: EarlyUse[] = [];
  const resolve = (scope: Scope | null, name: string, at: number, own: Scope): void => {
    for (let s = scope; s; s = s.parent) {
      const d = s.names.get(name);
      if (!d) continue;
      // Only the function whose own body holds the use: a nested function may run later.
      if (s === own && (d[1] === 'var' || d[1] === 'function') && at < d[0]) {
        found.push({ name, at, kind: d[1], bodyStart: s.bodyStart });
      }
      return;
    }
  };
  const walk = (n: Node, scope: Scope, own: Scope): void => {
    if (isFn(n)) {
      const body = n['body'] as Node;
      const fnScope: Scope = { node: n, fn: true, bodyStart: body.start + 1, names: new Map(), parent: scope };
      // A named function expression's name is visible inside it.
      if (n.type === 'FunctionExpression' && n['id']) declare(fnScope, (n['id'] as Node)['name'] as string, -1, 'param');
      for (const p of n['params'] as Node[]) declare(fnScope, p['name'] as string, -1, 'param');
      collect(body, fnScope);
      walk(body, fnScope, fnScope);
      return;
    }
    if (n.type === 'CatchClause') {
      const c: Scope = { node: n, fn: false, bodyStart: 0, names: new Map(), parent: scope };
      declare(c, (n['param'] as Node)['name'] as string, -1, 'catch');
      walk(n['body'] as Node, c, own);
      return;
    }
    if (n.type === 'Identifier') {
      resolve(scope, n['name'] as string, n.start, own);
      return;
    }
    if (n.type === 'MemberExpression') {
      walk(n['object'] as Node, scope, own);
      if (n['computed']) walk(n['property'] as Node, scope, own);
      return;
    }
    if (n.type === 'Property') {
      if (n['computed']) walk(n['key'] as Node, scope, own);
      walk(n['value'] as Node, scope, own);
      return;
    }
    if (n.type === 'VariableDeclarator') {
      if (n['init']) walk(n['init'] as Node, scope, own);
      return;
    }
    if (n.type === 'LabeledStatement' || n.type === 'BreakStatement' || n.type === 'ContinueStatement') {
      if (n['body']) walk(n['body'] as Node, scope, own);
      return;
    }
    for (const c of children(n)) walk(c, scope, own);
  };
  const top: Scope = { node: null, fn: true, bodyStart: 0, names: new Map(), parent: null };
  collect(ast, top);
  walk(ast, top, top);
  return found;
}

/** Declares every early-used `var` at the top of its function (`var a,b;`), so Espruino finds the local one. */
export function hoistEarlyVars(text: string): string {
  const byBody = new Map<number, Set<string>>();
  for (const u of earlyUses(text)) {
    if (u.kind !== 'var') continue;
    const set = byBody.get(u.bodyStart) ?? new Set<string>();
    set.add(u.name);
    byBody.set(u.bodyStart, set);
  }
  let out = text;
  for (const at of [...byBody.keys()].sort((a, b) => b - a)) {
    out = `${out.slice(0, at)}var ${[...(byBody.get(at) as Set<string>)].sort().join(',')};${out.slice(at)}`;
  }
  return out;
}
