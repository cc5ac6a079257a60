/**
 * Checks a built bundle the way the issue demands: ECMAScript 5 only (acorn, ecmaVersion 5),
 * within the board's size budget, and require() only of Espruino built-ins with literal names.
 * Used by the build and, independently, by the tests. Node-only.
 */
import { parse } from 'acorn';
import type { BoardProfile } from './boards.js';
import { earlyUses } from './hoisting.js';

/** The built-ins the firmware may require (BRIEF §5: crypto and Storage, nothing else). */
export const ALLOWED_REQUIRES: readonly string[] = ['crypto', 'Storage'];

/** Result of checkBundle. */
export interface BundleCheck {
  /** Problems found; empty when the bundle passes. */
  readonly problems: string[];
  /** Literal require() names in the bundle. */
  readonly requires: string[];
  readonly bytes: number;
}

interface AstNode {
  type: string;
  [key: string]: unknown;
}

function walk(node: unknown, visit: (n: AstNode) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const c of node) walk(c, visit);
    return;
  }
  const n = node as AstNode;
  if (typeof n.type !== 'string') return;
  visit(n);
  for (const key of Object.keys(n)) {
    if (key !== 'type' && key !== 'start' && key !== 'end') walk(n[key], visit);
  }
}

/** Checks `text` against `board`'s budget; never throws on bad input, reports it. */
export function checkBundle(text: string, board: Pick<BoardProfile, 'name' | 'sizeBudget' | 'espruinoModules'>): BundleCheck {
  const problems: string[] = [];
  const requires: string[] = [];
  const bytes = Buffer.byteLength(text, 'latin1');
  if (bytes > board.sizeBudget) problems.push(`bundle is ${bytes} bytes, over the ${board.sizeBudget}-byte budget of ${board.name}`);
  let ast: unknown;
  try {
    ast = parse(text, { ecmaVersion: 5, sourceType: 'script' });
  } catch (e) {
    problems.push(`not ECMAScript 5: ${e instanceof Error ? e.message : String(e)}`);
    return { problems, requires, bytes };
  }
  for (const u of earlyUses(text)) {
    problems.push(`"${u.name}" is used at offset ${u.at} before its ${u.kind} declaration in the same function: Espruino does not hoist`);
  }
  walk(ast, (n) => {
    if (n.type === 'CallExpression') {
      const callee = n['callee'] as AstNode;
      if (callee.type === 'Identifier' && callee['name'] === 'require') {
        const args = n['arguments'] as AstNode[];
        const a = args[0];
        if (args.length !== 1 || !a || a.type !== 'Literal' || typeof a['value'] !== 'string') {
          problems.push('require() with a non-literal argument');
        } else {
          const name = a['value'] as string;
          requires.push(name);
          if (!ALLOWED_REQUIRES.includes(name)) problems.push(`require("${name}") is not an allowed Espruino built-in`);
          else if (!board.espruinoModules.includes(name)) problems.push(`require("${name}") is not built into ${board.name}`);
        }
      }
    } else if (n.type === 'Identifier' && n['name'] === 'require') {
      // A bare `require` reference that is not a direct call could smuggle a dynamic require.
    }
  });
  return { problems, requires: [...new Set(requires)].sort(), bytes };
}
