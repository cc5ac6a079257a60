/**
 * The firmware build (Node-only): firmware/src + the ES5-safe parts of shared/ → one minified
 * ES5 file per board profile, dist/firmware/<BOARD>.js.
 *
 * esbuild cannot lower to ES5, so each TypeScript file is first compiled by the TypeScript
 * compiler (target ES5, ES modules kept for tree-shaking), then esbuild only bundles and
 * minifies already-ES5 code (target es5 makes it refuse to emit anything newer). The result is
 * checked three ways: acorn parses it as ECMAScript 5, it fits the board's size budget, and its
 * only require() calls name Espruino built-ins. A full typecheck against ES5 lib typings
 * (firmware/tsconfig.json) runs first, so an ES2015 library call fails the build too.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile, PluginBuild } from 'esbuild';
import type TS from 'typescript';
import { ProvenantError } from '../shared/errors.js';
import { listBoards, loadBoard, type BoardProfile } from './boards.js';
import { checkBundle } from './check.js';
import { hoistEarlyVars } from './hoisting.js';
import { estimateVariables, variableProblems, type VariableEstimate } from './variables.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const ROOT = join(here, '..');
/** Where bundles go. */
export const DIST_FIRMWARE = join(ROOT, 'dist', 'firmware');
/** Firmware version reported in HELLO. */
export const FW_VERSION = '0.1.0';
/** The placeholder the fwHash replaces: base64 of 32 zero bytes. */
export const FW_HASH_PLACEHOLDER = Buffer.alloc(32).toString('base64');

/** What one board's build produced. */
export interface BuiltBundle {
  readonly board: string;
  readonly path: string;
  readonly bytes: number;
  readonly sizeBudget: number;
  /** Hex SHA-256 of the bundle with its fwHash (base64 in the text) zeroed: what HELLO reports. */
  readonly fwHash: string;
  /** require() names found in the bundle. */
  readonly requires: readonly string[];
  /** Estimated Espruino variables (firmware/variables.ts). */
  readonly variables: VariableEstimate;
}

/**
 * The build-time constants baked into a bundle (firmware/src/board.ts), one per profile field so
 * the minifier can fold them: e.g. `BATTERY === 'nrf'` is decided at build time and a board
 * without a button carries no maintenance-boot code.
 */
export function boardDefines(b: BoardProfile): Record<string, string> {
  const j = JSON.stringify;
  return {
    PV_NAME: j(b.name),
    PV_LINK: j(b.link.default),
    PV_LINKS: j(b.link.available),
    PV_BAUD: j(b.link.baud),
    PV_ANALOG: j(b.pins.analog ?? ''),
    PV_BUTTON: j(b.pins.button ?? ''),
    PV_BATTERY: j(b.battery),
    PV_SENSORS: j(b.sensors),
    PV_RING: j(b.ringSize),
    PV_SERIAL1: j(b.pins.serial1 ?? null),
    PV_SERIAL2: j(b.pins.serial2 ?? null),
    PV_EPOCH_SIGNATURES: j(b.epochSignatures === true),
  };
}

/** Typechecks firmware/ against ES5 typings; throws with the diagnostics. */
export async function typecheckFirmware(): Promise<void> {
  const ts = (await import('typescript')).default;
  const configPath = join(here, 'tsconfig.json');
  const cfg = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, here);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const diags = ts.getPreEmitDiagnostics(program);
  if (diags.length > 0) {
    const text = ts.formatDiagnostics(diags, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' });
    throw new ProvenantError('PROV_ERR_FIRMWARE_BUILD', `firmware typecheck (ES5) failed:\n${text}`);
  }
}

/** esbuild's metafile of the last bundle (bytes per input file), for size work. */
export let lastMetafile: Metafile | undefined;

/** Recomputes a bundle's fwHash (hex) the way HELLO reports it: SHA-256 with the hash zeroed. */
export function computeFwHash(text: string, fwHashHex: string): string {
  const zeroed = text.split(Buffer.from(fwHashHex, 'hex').toString('base64')).join(FW_HASH_PLACEHOLDER);
  return createHash('sha256').update(zeroed, 'latin1').digest('hex');
}

/**
 * A TypeScript transformer for the board's copy of the code, doing two things:
 *
 * - `throw new RangeError(...)` (or TypeError, Error) becomes `throw 0`, and any other
 *   `new RangeError(...)` loses its message: on the board an error is only ever caught and
 *   counted, never shown or inspected (provisioning's catch looks only for the field names it
 *   throws itself), and the texts (built from template literals) would cost about a kilobyte of
 *   the 8 KB budget, the error objects another ~120 bytes;
 * - drops every `if (...) throw new TypeError(...)` guard (without else). TypeErrors guard
 *   shared/ functions against untyped callers passing the wrong kind of value; on the board
 *   every argument is built by the typed firmware itself (the typecheck proves the kinds), so
 *   these guards cannot fire there. RangeError guards (values out of range) all stay: the
 *   board does hit those, e.g. a clock the edge set past 2^53 ms.
 *
 * Node-side code keeps all of it; only the bundle changes (docs/firmware.md, "Size").
 */
function boardTransform(ts: typeof TS): TS.TransformerFactory<TS.SourceFile> {
  const names = new Set(['RangeError', 'TypeError', 'Error']);
  const isTypeErrorThrow = (st: TS.Statement): boolean => {
    if (ts.isBlock(st)) return st.statements.length === 1 && isTypeErrorThrow(st.statements[0] as TS.Statement);
    return (
      ts.isThrowStatement(st) &&
      ts.isNewExpression(st.expression) &&
      ts.isIdentifier(st.expression.expression) &&
      st.expression.expression.text === 'TypeError'
    );
  };
  return (ctx) => {
    const visit = (node: TS.Node): TS.Node | undefined => {
      if (ts.isIfStatement(node) && !node.elseStatement && isTypeErrorThrow(node.thenStatement)) return undefined;
      if (
        ts.isThrowStatement(node) &&
        ts.isNewExpression(node.expression) &&
        ts.isIdentifier(node.expression.expression) &&
        names.has(node.expression.expression.text)
      ) {
        return ctx.factory.updateThrowStatement(node, ctx.factory.createNumericLiteral(0));
      }
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        names.has(node.expression.text) &&
        node.arguments &&
        node.arguments.length > 0
      ) {
        return ctx.factory.updateNewExpression(node, node.expression, node.typeArguments, []);
      }
      return ts.visitEachChild(node, visit, ctx);
    };
    return (sf) => ts.visitNode(sf, visit) as TS.SourceFile;
  };
}

/**
 * Bundles `entry` through the firmware pipeline: TypeScript → ES5 per file, esbuild bundle and
 * minify (target es5), require() kept for Espruino's built-ins. Tests use it to run shared code
 * exactly as the board gets it.
 */
export async function bundleEntry(entry: string, define: Record<string, string> = {}): Promise<string> {
  const ts = (await import('typescript')).default;
  const esbuild = await import('esbuild');
  const toEs5 = {
    name: 'typescript-es5',
    setup(build: PluginBuild) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const src = readFileSync(args.path, 'utf8');
        const out = ts.transpileModule(src, {
          fileName: args.path,
          compilerOptions: {
            target: ts.ScriptTarget.ES5,
            module: ts.ModuleKind.ESNext,
            verbatimModuleSyntax: false,
            isolatedModules: true,
            removeComments: false,
          },
          transformers: { before: [boardTransform(ts)] },
        });
        // TypeScript marks its down-levelled classes `/** @class */`; tell esbuild they are pure,
        // so classes nobody uses (e.g. error types of decoders the board never calls) drop out.
        const contents = out.outputText.split('/** @class */').join('/* @__PURE__ */');
        return { contents, loader: 'js' };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es5',
    platform: 'neutral',
    // esbuild bundles and tree-shakes; terser minifies (it does better on unminified input).
    minify: false,
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [toEs5],
    metafile: true,
    define: {
      ...define,
      // Hide require() from esbuild (it would bundle or shim it); restored below.
      require: 'PV_REQUIRE',
    },
  });
  const file = result.outputFiles[0];
  if (!file) throw new ProvenantError('PROV_ERR_FIRMWARE_BUILD', `esbuild produced no output for ${entry}`);
  lastMetafile = result.metafile;
  // esbuild marks the IIFE strict (ES modules are); Espruino ignores the directive, so it is
  // dropped and the simulated board runs the bundle in the same sloppy mode as the board.
  const min = (await terserPass(file.text)).trim().replace(/^"use strict";/, '');
  // Espruino does not hoist: names the minifier uses before their `var` are declared first.
  return hoistEarlyVars(min.split('PV_REQUIRE(').join('require(')) + '\n';
}

/**
 * Property names the bundle may rename: fields of objects that live and die inside the bundle
 * (the reading handed to encodeReading, validated provisioning, decoded PARTIAL/MAINT, ring
 * entries, the receiver). Never an Espruino API name (read, write, setup, setConsole...), never
 * a Serial.setup or setConsole option (rx, tx, path, force), never a name read from JSON by dot
 * access: provenant.json is read with quoted keys only (firmware/src/provision.ts), which
 * `keep_quoted: 'strict'` leaves alone. A new field is simply not renamed until added here.
 */
export const MANGLED_PROPS =
  /^(deviceId|seq|t|epoch|partialDigest|batteryMv|channels|id|scale|value|key|link|baud|intervalMs|sensors|analogPin|production|seqFloor|notBefore|signGapMs|firstSeq|count|root|nodes|bootCount|uptimeMs|edgeTimeMs|maxPerMinute|command|counter|tag|slot|drops)$/;

/**
 * terser over esbuild's ES5 output: three compress passes inline the small one-use functions
 * and fold the per-board constants (esbuild folds within an expression, terser across them).
 * `unsafe` assumes the built-ins are the standard ones (true on Espruino); the transforms that
 * need ES2015 (arrows, methods) stay off, and the acorn ES5 check runs on the result. Names
 * inside the bundle's IIFE are mangled, and the internal properties of MANGLED_PROPS.
 */
async function terserPass(code: string): Promise<string> {
  const { minify } = await import('terser');
  const out = await minify(code, {
    ecma: 5,
    compress: {
      passes: 3,
      keep_fargs: false,
      properties: false,
      pure_getters: true,
      unsafe: true,
      unsafe_comps: true,
      unsafe_undefined: true,
      hoist_props: true,
    },
    // builtins: the regex alone decides (terser would otherwise spare DOM names such as `key`).
    mangle: { properties: { regex: MANGLED_PROPS, keep_quoted: 'strict', builtins: true } },
    format: { ascii_only: true, ecma: 5 },
  });
  if (out.code === undefined) throw new ProvenantError('PROV_ERR_FIRMWARE_BUILD', 'terser produced no output');
  return out.code;
}

/** Bundles one board: returns the final text (fwHash filled in). */
export async function bundleBoard(board: BoardProfile): Promise<{ text: string; fwHash: string }> {
  let text = await bundleEntry(join(here, 'src', 'main.ts'), {
    ...boardDefines(board),
    PV_FW_VERSION: JSON.stringify(FW_VERSION),
    PV_FW_HASH: JSON.stringify(FW_HASH_PLACEHOLDER),
  });
  if (text.split(FW_HASH_PLACEHOLDER).length !== 2) {
    throw new ProvenantError('PROV_ERR_FIRMWARE_BUILD', `${board.name}: the fwHash placeholder must occur exactly once`);
  }
  const digest = createHash('sha256').update(text, 'latin1').digest();
  text = text.replace(FW_HASH_PLACEHOLDER, digest.toString('base64'));
  return { text, fwHash: digest.toString('hex') };
}

/**
 * Builds every board profile (or the named ones) into `outDir`. Throws ProvenantError
 * (PROV_ERR_FIRMWARE_BUILD) on a type error, ES2015+ syntax, a foreign require or a bundle over
 * its budget, naming the board.
 */
export async function buildFirmware(
  opts: { boards?: readonly string[]; outDir?: string; skipTypecheck?: boolean } = {},
): Promise<BuiltBundle[]> {
  const outDir = opts.outDir ?? DIST_FIRMWARE;
  if (!opts.skipTypecheck) await typecheckFirmware();
  mkdirSync(outDir, { recursive: true });
  const built: BuiltBundle[] = [];
  for (const name of opts.boards ?? listBoards()) {
    const board = loadBoard(name);
    const { text, fwHash } = await bundleBoard(board);
    const check = checkBundle(text, board);
    const variables = estimateVariables(text, board);
    const problems = [...check.problems, ...variableProblems(variables, board)];
    if (problems.length > 0) {
      throw new ProvenantError('PROV_ERR_FIRMWARE_BUILD', `${name}: ${problems.join('; ')}`, { field: name });
    }
    const path = join(outDir, `${name}.js`);
    writeAtomic(path, text);
    built.push({
      board: name,
      path,
      bytes: Buffer.byteLength(text, 'latin1'),
      sizeBudget: board.sizeBudget,
      fwHash,
      requires: check.requires,
      variables,
    });
  }
  const manifest = { sourceHash: sourceHash(), bundles: built.map((b) => ({ ...b, path: undefined, file: `${b.board}.js` })) };
  writeAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return built;
}

function writeAtomic(path: string, text: string): void {
  // Parallel test workers may build at once: readers must never see a half-written bundle.
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text, 'latin1');
  renameSync(tmp, path);
}

/** Hash of every input of the build (sources, shared code, board profiles, the build itself). */
export function sourceHash(): string {
  const h = createHash('sha256');
  const dirs = [
    join(here, 'src'),
    here,
    join(ROOT, 'shared', 'wire'),
    join(ROOT, 'shared', 'encoding'),
    join(ROOT, 'shared', 'crypto'),
    join(ROOT, 'shared'),
    join(ROOT, 'firmware', 'boards'),
  ];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).sort()) {
      if (!/\.(ts|json)$/.test(f)) continue;
      h.update(`${dir}/${f}\0`)
        .update(readFileSync(join(dir, f)))
        .update('\0');
    }
  }
  return h.digest('hex');
}

/** Builds into dist/firmware unless its manifest says the sources have not changed since. */
export async function ensureFirmwareBuilt(): Promise<void> {
  const manifest = join(DIST_FIRMWARE, 'manifest.json');
  if (existsSync(manifest)) {
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { sourceHash?: string; bundles?: { file: string }[] };
      if (m.sourceHash === sourceHash() && (m.bundles ?? []).every((b) => existsSync(join(DIST_FIRMWARE, b.file)))) return;
    } catch {
      // A torn or old manifest: rebuild.
    }
  }
  await buildFirmware();
}
