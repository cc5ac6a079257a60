/**
 * An estimate of the Espruino variables (JsVars) the firmware needs on a board, at rest and at
 * its peak (BRIEF §10: "fits 2,000 vars"). Node-only; `provenant firmware build` prints it and
 * test/firmware/variables.test.ts holds every profile's `boardVariables` and the 2,000 target
 * against it. It is a model, not a measurement (the simulated board runs on V8, which has no
 * JsVars); docs/firmware.md, "Memory", gives the reasoning. The model, deliberately generous:
 *
 * - Espruino stores everything in fixed-size blocks; a string or a typed array's bytes take one
 *   block per CHARS_PER_VAR characters plus a header or two.
 * - The bundle runs from Storage (`.bootcde`): function bodies stay in flash and a function costs
 *   its object, a reference to its code, its scope link and one name per parameter. Every
 *   function in the bundle is counted as if alive at once (most exist only while their
 *   enclosing call runs). Had the code been sent to RAM instead, its text would add one block
 *   per CHARS_PER_VAR bytes: `codeInRam` shows that figure next to it.
 * - A plain array of numbers costs one block per element (the board builds the canonical
 *   reading and HELLO as plain arrays before copying them into a Uint8Array).
 * - The peak is the state at rest, a full resend ring, and the larger of the two code paths that
 *   can run: taking a sample (channels, reading object, canonical bytes, HMAC, frame) or handling
 *   a received frame (decode, PARTIAL, a resend, a HELLO; or a CHALLENGE answered), plus the interpreter's call scopes.
 */
import { parse } from 'acorn';
import type { BoardProfile } from './boards.js';

/** Characters (or typed-array bytes) per JsVar block, as on most Espruino boards. */
export const CHARS_PER_VAR = 12;
/** Blocks for the interpreter's scopes while the deepest handler runs (~6 nested calls with their locals). */
export const CALL_SCOPES = 80;

/** Where the estimate comes from, part by part (JsVars). */
export interface VariableEstimate {
  /** Function objects of the bundle, code in flash. */
  readonly code: number;
  /** `code` plus the code text itself, had it been uploaded to RAM instead of Storage. */
  readonly codeInRam: number;
  /** Module variables, provisioning, profile constants, receive buffer, timers. */
  readonly state: number;
  /** The resend ring when full (ringSize entries of the largest READING payload). */
  readonly ringFull: number;
  /** Transient blocks while a sample is taken, signed, framed and sent. */
  readonly samplePath: number;
  /** Transient blocks while a received frame is handled (PARTIAL, resend, HELLO). */
  readonly receivePath: number;
  /** code + state, nothing in flight, empty ring. */
  readonly atRest: number;
  /** atRest + ringFull + the larger path + call scopes. */
  readonly peak: number;
}

/** Blocks of a string of `n` characters. */
function str(n: number): number {
  return 1 + Math.ceil(n / CHARS_PER_VAR);
}

/** Blocks of a Uint8Array of `n` bytes (view, buffer, data). */
function bytes(n: number): number {
  return 2 + Math.ceil(n / CHARS_PER_VAR);
}

/** Blocks of an object with `props` properties (a name and a value each). */
function obj(props: number): number {
  return 1 + 2 * props;
}

interface Node {
  type: string;
  [k: string]: unknown;
}

/** Functions and their parameters in the bundle, and the variables of its outermost scope. */
function shape(text: string): { functions: number; params: number; topLevel: number } {
  const ast = parse(text, { ecmaVersion: 5, sourceType: 'script' }) as unknown as Node;
  let functions = 0;
  let params = 0;
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const c of n) walk(c);
      return;
    }
    const node = n as Node;
    if (typeof node.type !== 'string') return;
    if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression') {
      functions++;
      params += (node['params'] as unknown[]).length;
    }
    for (const k of Object.keys(node)) if (k !== 'type') walk(node[k]);
  };
  walk(ast);
  // The bundle is one IIFE: its body's declarations are the module state.
  let topLevel = 0;
  for (const st of findIifeBody(ast)) {
    if (st.type === 'VariableDeclaration') topLevel += (st['declarations'] as unknown[]).length;
  }
  return { functions, params, topLevel };
}

function findIifeBody(ast: Node): Node[] {
  const body = ast['body'] as Node[];
  for (const st of body) {
    let e = st.type === 'ExpressionStatement' ? (st['expression'] as Node) : undefined;
    if (e && e.type === 'UnaryExpression') e = e['argument'] as Node;
    if (e && e.type === 'CallExpression' && (e['callee'] as Node).type === 'FunctionExpression') {
      return ((e['callee'] as Node)['body'] as Node)['body'] as Node[];
    }
  }
  return body;
}

/** The estimate for `board` running the bundle `text`. */
export function estimateVariables(text: string, board: Pick<BoardProfile, 'ringSize' | 'sensors' | 'link'>): VariableEstimate {
  const s = shape(text);
  const code = 4 * s.functions + s.params; // object, code reference, scope, name; one per parameter
  const codeInRam = code + Math.ceil(Buffer.byteLength(text, 'latin1') / CHARS_PER_VAR);
  const channels = board.sensors.filter((x) => x !== 'battery').length;
  const canonical = 54 + 64 + 6 * channels; // longest deviceId
  const payload = canonical + 32;
  const provisioning = obj(10) + str(64) + bytes(32) + str(12) + str(32) + str(4) + 1 + 2 * board.sensors.length;
  const profile = 2 * (1 + 2 * board.link.available.length) + 1 + 2 * board.sensors.length + 2 * obj(2);
  const state = 2 * s.topLevel + provisioning + profile + bytes(262) + obj(2) + 2 * 4; // rx buffer, rx object, two timers
  const ringFull = 1 + board.ringSize * (obj(3) + bytes(payload)); // entry: seq, payload, slot
  const frame = (n: number) => bytes(n + 5) + 2 * bytes(n + 8); // raw, COBS, with delimiter
  const samplePath =
    channels * obj(3) +
    obj(7) +
    canonical +
    bytes(canonical) +
    bytes(64 + canonical) +
    bytes(96) +
    3 * bytes(32) +
    bytes(payload) +
    frame(payload);
  const hello = 1 + 64 + 1 + 5 + 32 + 4 + 4 + 2 + 1 + 16; // plain array of the HELLO payload
  // A CHALLENGE: its payload, prefix ‖ challenge ‖ response, the HMAC's two blocks and digests, the RESPONSE frame.
  const challenge = bytes(32) + bytes(22 + 64) + bytes(64 + 54) + bytes(96) + 2 * bytes(32) + frame(64);
  const receivePath =
    bytes(262) + bytes(255) + Math.max(obj(5) + bytes(32) + frame(payload) + hello + bytes(hello) + frame(hello), challenge);
  const atRest = code + state;
  const peak = atRest + ringFull + Math.max(samplePath, receivePath) + CALL_SCOPES;
  return { code, codeInRam, state, ringFull, samplePath, receivePath, atRest, peak };
}

/**
 * What is wrong with `est` on `board`: the peak must fit the brief's `variables` target (2,000)
 * and the board's real `boardVariables`, and even with the code in RAM the board must hold it.
 * Empty when it fits; the build refuses a bundle with problems.
 */
export function variableProblems(est: VariableEstimate, board: Pick<BoardProfile, 'name' | 'variables' | 'boardVariables'>): string[] {
  const out: string[] = [];
  if (est.peak > board.variables)
    out.push(`estimated peak of ${est.peak} variables exceeds the ${board.variables}-variable target of ${board.name}`);
  if (est.peak > board.boardVariables)
    out.push(`estimated peak of ${est.peak} variables exceeds the ${board.boardVariables} variables ${board.name} has`);
  const inRam = est.peak - est.code + est.codeInRam;
  if (inRam > board.boardVariables)
    out.push(
      `with the code in RAM the estimated peak of ${inRam} variables exceeds the ${board.boardVariables} variables ${board.name} has`,
    );
  return out;
}
