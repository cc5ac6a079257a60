/**
 * Pseudo-terminal pairs: two tty paths joined back to back, so two programs talk as over a serial
 * cable (a simulated board on one end; the flasher, the monitor or the edge on the other). The
 * one place that makes them: `provenant sim`, the simulated board's 'pty' link and the tests.
 *
 * Backends, picked in this order (or forced with PROVENANT_PTY=python3|socat):
 * - python3 (in every Debian/Ubuntu install, and what node-gyp needs anyway): a 40-line relay
 *   over two `pty.openpty()` pairs, raw, no echo; no native addon, nothing to install;
 * - socat (`apt-get install socat`), when python3 is missing.
 *
 * Both ends survive their opener closing or dying (socat's `ignoreeof`; the relay keeps each
 * tty open itself), like a USB adapter stays plugged in while the edge box reboots: the other
 * end's bytes wait in the tty (a full buffer drops them, like a serial overrun). Killing the
 * pair is pulling the cable. The relay exits with its parent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvenantError } from '../shared/errors.js';

/** How pty pairs are made on this machine, if at all. */
export type PtyBackend = 'python3' | 'socat';

const RELAY = `
import os, pty, tty, select, sys, json, errno, signal
links = sys.argv[1:3]
ends = []
for link in links:
    m, s = pty.openpty()
    tty.setraw(s)
    os.set_blocking(m, False)
    name = os.ttyname(s)
    tmp = link + '.tmp'
    try: os.unlink(tmp)
    except FileNotFoundError: pass
    os.symlink(name, tmp)
    os.replace(tmp, link)
    ends.append((m, s, name))
def bye(*_):
    for link in links:
        try: os.unlink(link)
        except OSError: pass
    os._exit(0)
signal.signal(signal.SIGTERM, bye)
sys.stdout.write(json.dumps([e[2] for e in ends]) + "\\n"); sys.stdout.flush()
(a, _, _), (b, _, _) = ends
peer = {a: b, b: a}
while True:
    r, _, _ = select.select([a, b, 0], [], [])
    if 0 in r and not os.read(0, 1024): bye()
    for fd in (a, b):
        if fd not in r: continue
        try: data = os.read(fd, 65536)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EIO): continue
            raise
        try: os.write(peer[fd], data)
        except OSError as e:
            if e.errno != errno.EAGAIN: raise
`;

function runs(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

let detected: PtyBackend | null | undefined;

/** The backend pty pairs use here: PROVENANT_PTY if set, else python3, else socat; null: none. */
export function ptyBackend(): PtyBackend | null {
  const forced = process.env['PROVENANT_PTY'];
  if (forced === 'python3' || forced === 'socat') return forced;
  if (detected === undefined) detected = runs('python3', ['-c', 'import pty, tty']) ? 'python3' : runs('socat', ['-V']) ? 'socat' : null;
  return detected;
}

/** Why pty pairs cannot be made here (for a test's skip message), or undefined when they can. */
export function ptyUnavailableReason(): string | undefined {
  return ptyBackend() === null ? 'no python3 and no socat on this machine: pty pairs need one (apt-get install python3)' : undefined;
}

/** A running pty pair. */
export interface PtyPair {
  /** One end's path (a symlink to /dev/pts/N). */
  readonly a: string;
  /** The other end's path. */
  readonly b: string;
  readonly backend: PtyBackend;
  /** Removes the pair (the ttys vanish: the cable is pulled). */
  close(): Promise<void>;
}

/**
 * Makes a pty pair whose ends are the paths `a` and `b` (default: two paths in a new temp dir).
 * Any program opens either end like a serial port.
 */
export async function openPtyPair(paths: { a?: string; b?: string } = {}): Promise<PtyPair> {
  const backend = ptyBackend();
  if (backend === null) throw new ProvenantError('PROV_ERR_CONFIG', ptyUnavailableReason() as string);
  const dir = paths.a && paths.b ? undefined : mkdtempSync(join(tmpdir(), 'provenant-pty-'));
  const a = paths.a ?? join(dir as string, 'a');
  const b = paths.b ?? join(dir as string, 'b');
  let child: ChildProcess;
  if (backend === 'python3') {
    child = spawn('python3', ['-c', RELAY, a, b], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('\n')) {
          child.stdout?.off('data', onData);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) =>
        reject(new ProvenantError('PROV_ERR_CONFIG', `the pty relay (python3) exited with ${code} before it was ready`)),
      );
    });
  } else {
    child = spawn('socat', [`pty,raw,echo=0,link=${a},ignoreeof`, `pty,raw,echo=0,link=${b},ignoreeof`], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    while (!(existsSync(a) && existsSync(b))) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new ProvenantError('PROV_ERR_CONFIG', 'socat did not create the pty pair');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stdin as { unref?: () => void } | null)?.unref?.();
  return {
    a,
    b,
    backend,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
