/**
 * Epoch signatures' cost on the board (issue 16), for `provenant bench firmware`: per board
 * profile, its bundle built with `epochSignatures` runs in the simulated board (its key sets 0 and
 * 1 put in Storage first, made in Node in the board's own file layout, so no key generation runs
 * while it is measured) and reports SHA-256 calls per reading while a segment is open (no
 * signature), SHA-256 calls per epoch signature, SIG frames and bytes on the wire per epoch, and
 * the Storage its epoch-signature files take. On Espruino's own interpreter (the LINUX bundle, the
 * only one its Linux build runs as is) the same is counted exactly by a wrapper around
 * `crypto.SHA256`, with each signature's wall time (the load is printed with it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as KeyFile from '../firmware/src/keyfile.js';
import type * as Lms from '../shared/crypto/lms.js';

type KeyFileModule = typeof KeyFile;
type LmsModule = typeof Lms;

/** What one board's epoch signatures cost. */
export interface LmsFigures {
  readonly bundleBytes: number;
  readonly sizeBudget: number;
  /** SHA-256 calls per reading with epoch signatures, outside any signature. */
  readonly sha256PerReading: number;
  /** The same bundle without epoch signatures (the board's figure of the main table). */
  readonly sha256PerReadingPlain: number;
  /** SHA-256 calls per epoch signature (W = 4: its chains depend on the message). */
  readonly sha256PerSignature: number;
  readonly signatures: number;
  /** SIG frames and bytes (whole frames, as on the wire) per epoch signature. */
  readonly sigFramesPerEpoch: number;
  readonly wireBytesPerEpoch: number;
  /** Storage bytes of the epoch-signature files (two key sets, leaf counter, segment, checkpoint, body). */
  readonly storageBytes: number;
}

function keySetFile(k: number, m: KeyFileModule, lms: LmsModule, sha: (b: Uint8Array) => Uint8Array): Uint8Array {
  const I = new Uint8Array(randomBytes(16));
  const seed = new Uint8Array(randomBytes(24));
  const f = new Uint8Array(m.KEY_FILE_BYTES);
  lms.putU32(f, 0, k);
  f.set(I, 4);
  f.set(seed, 20);
  f.set(lms.lmsTree(sha, m.LMS, m.OTS, I, seed), m.TREE_AT);
  return f;
}

/** Runs `board`'s epoch-signature bundle in the simulated board. */
export async function measureLmsBoard(board: string, readings: number, plainPerReading: number): Promise<LmsFigures> {
  const { startSimBoard, SimStorage } = await import('../hardware/sim/index.js');
  const { decodeMessage, encodeMessage } = await import('../shared/wire/union.js');
  const { FrameDecoder, encodeFrame } = await import('../shared/wire/frame.js');
  const { SigReassembler, MSG_SIG } = await import('../shared/wire/messages.js');
  const { bundleBoard } = await import('../firmware/build.js');
  const { EPOCH_SIGNATURES_SIZE_BUDGET, loadBoard } = await import('../firmware/boards.js');
  const keyfile = await import('../firmware/src/keyfile.js');
  const lms = await import('../shared/crypto/lms.js');
  const { sha256 } = await import('../shared/crypto/sha256.js');
  const { decodeSignatureBody, signatureLeaf } = await import('../shared/crypto/epoch.js');
  const profile = loadBoard(board);
  const { text } = await bundleBoard({ ...profile, epochSignatures: true });
  const dir = mkdtempSync(join(tmpdir(), 'provenant-bench-lms-'));
  const bundlePath = join(dir, `${board}-epochs.js`);
  writeFileSync(bundlePath, text, 'latin1');
  const storage = new SimStorage();
  storage.set(keyfile.keyFileName(0), Buffer.from(keySetFile(0, keyfile, lms, sha256)));
  storage.set(keyfile.keyFileName(1), Buffer.from(keySetFile(1, keyfile, lms, sha256)));
  const key = Buffer.alloc(32, 7).toString('base64');
  const b = await startSimBoard({
    board,
    bundlePath,
    storage,
    clockSpeedup: 20,
    provisioning: { deviceId: `bench-${board.toLowerCase()}`, key, intervalMs: 100, sensors: profile.sensors, signGapMs: 1000 },
  });
  const dec = new FrameDecoder();
  const sig = new SigReassembler();
  let seen = 0;
  let bodies = 0;
  let sigFrames = 0;
  let sigBytes = 0;
  let epoch = 1;
  const partial = (e: number) =>
    encodeMessage({
      kind: 'PARTIAL',
      epoch: e,
      partialDigest: new Uint8Array(32).fill(e),
      edgeTimeMs: Date.now(),
      intervalMs: 100,
      maxPerMinute: 0,
    });
  b.board.onOutput((chunk) => {
    for (const f of dec.push(chunk)) {
      const m = decodeMessage(f);
      if (m.kind === 'HELLO') b.board.hostWrite(partial(epoch));
      if (m.kind === 'READING') {
        seen++;
        b.board.hostWrite(encodeMessage({ kind: 'ACK', seq: m.reading.seq }));
      }
      if (m.kind === 'SIG') {
        sigFrames++;
        sigBytes += encodeFrame(MSG_SIG, f.payload).length;
        const body = sig.push(m);
        if (body) {
          bodies++;
          const d = decodeSignatureBody(body);
          b.board.hostWrite(encodeMessage({ kind: 'SIG_ACK', keySet: d.keySet, q: signatureLeaf(d.signature) }));
        }
      }
    }
  });
  const wait = async (cond: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 120_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`${board} with epoch signatures: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    b.reboot();
    // The reboot closed the segment open before it (if any); let its signature go first.
    await wait(() => seen >= 20, 'readings');
    await new Promise((r) => setTimeout(r, 300));
    const r0 = { calls: b.stats.sha256Calls, seen, bodies };
    await wait(() => seen >= r0.seen + readings, 'readings');
    const r1 = { calls: b.stats.sha256Calls, seen, bodies };
    if (r1.bodies !== r0.bodies) throw new Error(`${board}: a signature fell into the per-reading window`);
    const perReading = (r1.calls - r0.calls) / (r1.seen - r0.seen);
    // Each new epoch closes the open segment, which the board signs (one per signGapMs).
    const s0 = { calls: b.stats.sha256Calls, seen, bodies, frames: sigFrames, bytes: sigBytes };
    const n = 4;
    for (let i = 0; i < n; i++) {
      epoch += 1;
      b.board.hostWrite(partial(epoch));
      const want = s0.bodies + i + 1;
      await wait(() => bodies >= want, 'a SIG body');
      await new Promise((r) => setTimeout(r, 1100 / 20 + 20)); // signGapMs at the clock speed-up
    }
    const s1 = { calls: b.stats.sha256Calls, seen, bodies, frames: sigFrames, bytes: sigBytes };
    const signatures = s1.bodies - s0.bodies;
    const perSignature = (s1.calls - s0.calls - perReading * (s1.seen - s0.seen)) / signatures;
    const files = storage.list().filter((f) => f.startsWith('pv.'));
    const storageBytes = files.reduce((a, f) => a + (storage.get(f)?.length ?? 0), 0);
    if (b.stats.uncaught.length > 0) throw new Error(`${board}: firmware threw: ${b.stats.uncaught[0]}`);
    return {
      bundleBytes: text.length,
      sizeBudget: EPOCH_SIGNATURES_SIZE_BUDGET,
      sha256PerReading: perReading,
      sha256PerReadingPlain: plainPerReading,
      sha256PerSignature: Math.round(perSignature),
      signatures,
      sigFramesPerEpoch: (s1.frames - s0.frames) / signatures,
      wireBytesPerEpoch: (s1.bytes - s0.bytes) / signatures,
      storageBytes,
    };
  } finally {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signatures on Espruino's interpreter: SHA-256 calls and wall time per epoch signature (LINUX bundle). */
export async function measureLmsInterpreter(): Promise<
  { sha256Calls: number[]; ms: number[]; load: number; sha256PerReading: number } | { unavailable: string }
> {
  const { espruinoPath, LinuxBoard } = await import('../hardware/linux-board.js');
  const { existsSync } = await import('node:fs');
  if (!existsSync(espruinoPath())) return { unavailable: `no Espruino interpreter at ${espruinoPath()}` };
  const { bundleBoard } = await import('../firmware/build.js');
  const { loadBoard } = await import('../firmware/boards.js');
  const keyfile = await import('../firmware/src/keyfile.js');
  const lms = await import('../shared/crypto/lms.js');
  const { sha256 } = await import('../shared/crypto/sha256.js');
  const { EdgeDouble } = await import('../test/support/edge-double.js');
  const { text } = await bundleBoard({ ...loadBoard('LINUX'), epochSignatures: true });
  // Counts native SHA-256 calls; a burst (the calls of one task) of more than 300 is a signature.
  const counter =
    'var PVC=require("crypto"),PVO=PVC.SHA256;global.PVN=0;global.PVB=[];var PVK=0,PVS=0,PVL=0;' +
    'function PVE(){if(PVK>300){PVB.push([PVK,Math.round((PVL-PVS)*1e4)/10]);if(PVB.length>8)PVB.shift();}PVK=0;}' +
    'PVC.SHA256=function(d){var t=getTime();if(!PVK){PVS=t;setTimeout(PVE,0);}PVL=t;PVK++;PVN++;return PVO(d)};';
  const b = await LinuxBoard.start({
    files: {
      '.bootcde': text,
      '.boot0': counter,
      [keyfile.keyFileName(0)]: keySetFile(0, keyfile, lms, sha256),
      [keyfile.keyFileName(1)]: keySetFile(1, keyfile, lms, sha256),
    },
  });
  const key = new Uint8Array(randomBytes(32));
  let edge: InstanceType<typeof EdgeDouble> | undefined;
  try {
    await b.writeFile(
      'provenant.json',
      JSON.stringify({
        deviceId: 'bench-lms',
        key: Buffer.from(key).toString('base64'),
        link: 'Serial1',
        path: b.serial1Board,
        intervalMs: 200,
        signGapMs: 1000,
      }),
    );
    await b.reboot();
    await b.console();
    const partial = (e: number) => ({ epoch: e, partialDigest: new Uint8Array(32).fill(e), intervalMs: 200, maxPerMinute: 0 });
    edge = new EdgeDouble({ path: b.serial1, link: 'pty', key, partial: partial(1) });
    await edge.open();
    const e = edge;
    await e.waitFor(() => e.of('READING').length >= 3, 60_000, 'readings');
    const seqs = (): number => new Set(e.of('READING').map((r) => r.reading.seq)).size;
    const n0 = await b.eval<number>('PVN', 30_000);
    const r0 = seqs();
    await new Promise((r) => setTimeout(r, 4000));
    const n1 = await b.eval<number>('PVN', 30_000);
    const perReading = (n1 - n0) / Math.max(1, seqs() - r0);
    for (let ep = 2; ep <= 4; ep++) {
      e.send({ kind: 'PARTIAL', ...partial(ep), edgeTimeMs: Date.now() });
      await e.waitFor(() => e.sigBodies.length >= ep - 1, 90_000, 'a SIG body');
      await new Promise((r) => setTimeout(r, 1200));
    }
    const bursts = await b.eval<[number, number][]>('PVB', 30_000);
    return { sha256Calls: bursts.map((x) => x[0]), ms: bursts.map((x) => x[1]), load: loadavg()[0] ?? 0, sha256PerReading: perReading };
  } finally {
    await edge?.close();
    await b.close();
  }
}
