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
import { listBoards, loadBoard, type BoardProfile } from '../hardware/boards.js';
import { checkBundle } from './check.js';

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
}

/** The build-time constant baked into a bundle (firmware/src/board.ts BoardConst). */
export function boardConst(b: BoardProfile): object {
  return {
    name: b.name,
    link: b.link.default,
    links: b.link.available,
    baud: b.link.baud,
    analog: b.pins.analog ?? '',
    button: b.pins.button ?? '',
    battery: b.battery,
    sensors: b.sensors,
    ring: b.ringSize,
    serial1: b.pins.serial1,
    serial2: b.pins.serial2,
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
 * A TypeScript transformer that drops the message of every `new RangeError(...)`,
 * `new TypeError(...)` and `new Error(...)`: on the board an error is only ever caught and
 * counted, never shown, and the texts (built from template literals) would cost about a
 * kilobyte of the 8 KB budget. Node-side code keeps its messages; only the bundle loses them.
 */
function stripErrorTexts(ts: typeof TS): TS.TransformerFactory<TS.SourceFile> {
  const names = new Set(['RangeError', 'TypeError', 'Error']);
  return (ctx) => {
    const visit = (node: TS.Node): TS.Node => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && names.has(node.expression.text) && node.arguments && node.arguments.length > 0) {
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
          compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false, isolatedModules: true, removeComments: false },
          transformers: { before: [stripErrorTexts(ts)] },
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
    minify: true,
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
  return file.text.trim().split('PV_REQUIRE(').join('require(') + '\n';
}

/** Bundles one board: returns the final text (fwHash filled in). */
export async function bundleBoard(board: BoardProfile): Promise<{ text: string; fwHash: string }> {
  let text = await bundleEntry(join(here, 'src', 'main.ts'), {
    PV_BOARD: JSON.stringify(boardConst(board)),
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
export async function buildFirmware(opts: { boards?: readonly string[]; outDir?: string; skipTypecheck?: boolean } = {}): Promise<BuiltBundle[]> {
  const outDir = opts.outDir ?? DIST_FIRMWARE;
  if (!opts.skipTypecheck) await typecheckFirmware();
  mkdirSync(outDir, { recursive: true });
  const built: BuiltBundle[] = [];
  for (const name of opts.boards ?? listBoards()) {
    const board = loadBoard(name);
    const { text, fwHash } = await bundleBoard(board);
    const check = checkBundle(text, board);
    if (check.problems.length > 0) {
      throw new ProvenantError('PROV_ERR_FIRMWARE_BUILD', `${name}: ${check.problems.join('; ')}`, { field: name });
    }
    const path = join(outDir, `${name}.js`);
    writeAtomic(path, text);
    built.push({ board: name, path, bytes: Buffer.byteLength(text, 'latin1'), sizeBudget: board.sizeBudget, fwHash, requires: check.requires });
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
  const dirs = [join(here, 'src'), here, join(ROOT, 'shared', 'wire'), join(ROOT, 'shared', 'encoding'), join(ROOT, 'shared', 'crypto'), join(ROOT, 'shared'), join(ROOT, 'hardware', 'boards')];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).sort()) {
      if (!/\.(ts|json)$/.test(f)) continue;
      h.update(`${dir}/${f}\0`).update(readFileSync(join(dir, f))).update('\0');
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
