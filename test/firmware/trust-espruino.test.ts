/**
 * Issue 11, board side, on Espruino's own interpreter (2v29, Linux build; hardware/linux-board.ts finds it):
 * the built LINUX bundle sends reading v2 (boot count, uptime) with tags under K_tag, keeps its
 * clock when a PARTIAL a year back arrives (attack 3), refuses a MAINT under a key the ledger
 * holds and accepts the owner's K_maint (attack 6). The data link is Serial1 on one end of a pty pair
 * (hardware/pty.ts; a 0x04 on the interpreter's stdin would end it, its README says). Skipped, saying
 * why, when the interpreter is absent or no pty pair can be made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFirmwareBuilt, DIST_FIRMWARE } from '../../firmware/build.js';
import { openPtyPair, ptyUnavailableReason, type PtyPair } from '../../hardware/pty.js';
import { espruinoPath, espruinoUnavailable } from '../../hardware/linux-board.js';
import { completeBytes } from '../../shared/crypto/complete.js';
import { ledgerKeys, maintTag, subkey, SUBKEY_MAINT } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { FrameDecoder } from '../../shared/wire/frame.js';
import { MAINT_UNLOCK, STATUS_MAINT_REJECTED, STATUS_UNLOCKED } from '../../shared/wire/messages.js';
import { decodeMessage, encodeMessage, type WireMessage } from '../../shared/wire/union.js';

const INTERPRETER = espruinoPath();
const why = espruinoUnavailable() ?? ptyUnavailableReason() ?? '';
if (why) console.log(`trust-espruino skipped: ${why}`);

const YEAR = 365 * 86_400_000;
const key = new Uint8Array(32).fill(7);
let dir: string;
let pty: PtyPair | undefined;
let esp: ChildProcess | undefined;
let port: SerialPort | undefined;
/** Set once afterAll starts closing the port: a write still in flight then fails (EBADF) and is no finding. */
let closing = false;
/** Port errors while open, surfaced by until() so a broken link fails the test by name. */
const portErrors: Error[] = [];
const got: WireMessage[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(p: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!p()) {
    if (portErrors.length > 0) throw new Error(`the edge end's port failed while waiting for ${what}: ${portErrors[0]!.message}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${got.map((m) => m.kind).join(',')}`);
    await sleep(50);
  }
}
const send = (m: WireMessage): void => void port?.write(Buffer.from(encodeMessage(m)));
const readings = () => got.filter((m): m is Extract<WireMessage, { kind: 'READING' }> => m.kind === 'READING');
const statuses = () => got.filter((m): m is Extract<WireMessage, { kind: 'STATUS' }> => m.kind === 'STATUS');

describe.skipIf(why !== '')('trust v2 on the real Espruino interpreter', () => {
  beforeAll(async () => {
    await ensureFirmwareBuilt();
    dir = mkdtempSync(join(tmpdir(), 'prov-espruino-trust-'));
    pty = await openPtyPair({ a: join(dir, 'board'), b: join(dir, 'edge') });
    const prov = {
      deviceId: 'esp-real-1',
      key: Buffer.from(key).toString('base64'),
      link: 'Serial1',
      path: join(dir, 'board'),
      intervalMs: 200,
      sensors: [],
      production: true,
      notBefore: Date.now() - 3_600_000,
    };
    const bundle = readFileSync(join(DIST_FIRMWARE, 'LINUX.js'), 'latin1');
    writeFileSync(join(dir, 'boot.js'), `require("Storage").write("provenant.json",${JSON.stringify(JSON.stringify(prov))});\n${bundle}`);
    port = new SerialPort({ path: join(dir, 'edge'), baudRate: 115200 });
    const dec = new FrameDecoder();
    port.on('data', (c: Buffer) => {
      for (const f of dec.push(c)) got.push(decodeMessage(f));
    });
    // Without a listener a write that fails (an ACK in flight while the pty closes: EBADF) would be
    // an uncaught exception of the whole test run, as test/support/edge-double.ts found in CI.
    port.on('error', (err: Error) => {
      if (!closing) portErrors.push(err);
    });
    // Its Storage file (espruino.flash) lands in its working directory: one directory per board.
    esp = spawn(INTERPRETER, [join(dir, 'boot.js')], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
  }, 120_000);

  afterAll(async () => {
    closing = true;
    esp?.kill('SIGKILL'); // it ignores SIGTERM
    if (port?.isOpen) await new Promise((r) => port?.close(r));
    await pty?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends reading v2 tagged under K_tag, keeps its date against a PARTIAL a year back, and only K_maint unlocks it', async () => {
    await until(() => got.some((m) => m.kind === 'HELLO'), 'HELLO');
    const now = Date.now();
    const partial = { kind: 'PARTIAL' as const, epoch: 5, partialDigest: new Uint8Array(32).fill(3), intervalMs: 200, maxPerMinute: 0 };
    send({ ...partial, edgeTimeMs: now });
    await until(() => readings().length >= 3, 'three readings');
    for (const m of readings()) send({ kind: 'ACK', seq: m.reading.seq });
    const before = readings().length;
    const lastT = Math.max(...readings().map((m) => m.reading.t));
    send({ ...partial, edgeTimeMs: now - YEAR });
    await until(() => new Set(readings().map((m) => m.reading.seq)).size >= before + 3, 'three readings after the year-back PARTIAL');
    const all = readings();
    expect(all.every((m) => m.canonical[0] === 2 && m.reading.bootCount === 1 && typeof m.reading.uptimeMs === 'number')).toBe(true);
    expect(all.every((m) => Buffer.from(completeBytes(sha256, key, m.canonical)).equals(Buffer.from(m.tag)))).toBe(true);
    for (const m of all.slice(before)) {
      expect(m.reading.t).toBeGreaterThanOrEqual(lastT);
      expect(Math.abs(m.reading.t - Date.now())).toBeLessThan(10_000);
    }
    // MAINT under K_tag (what the ledger holds) is refused; under the owner's K_maint it unlocks.
    send({
      kind: 'MAINT',
      command: MAINT_UNLOCK,
      counter: 10,
      tag: maintTag(sha256, ledgerKeys(sha256, key).kTag, 'esp-real-1', MAINT_UNLOCK, 10),
    });
    await until(() => statuses().some((s) => s.code === STATUS_MAINT_REJECTED && s.value === 10), 'MAINT_REJECTED');
    send({
      kind: 'MAINT',
      command: MAINT_UNLOCK,
      counter: 11,
      tag: maintTag(sha256, subkey(sha256, key, SUBKEY_MAINT), 'esp-real-1', MAINT_UNLOCK, 11),
    });
    await until(() => statuses().some((s) => s.code === STATUS_UNLOCKED && s.value === 11), 'UNLOCKED');
  }, 120_000);
});
