/**
 * docs/firmware.md "Trying it without a board", as a test: `provenant sim --boards 3` in its own
 * process (empty simulated boards behind pty pairs), `provenant flash` onto each, `provenant
 * monitor` on one, then the edge (from a config naming the three ports) against an embedded
 * ledger the authority set up: readings of all three boards reach the ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../edge-runtime/src/config.js';
import { startEdge, type RunningEdge } from '../../edge-runtime/src/from-config.js';
import { silentLog } from '../../edge-runtime/src/log.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { ptyUnavailableReason } from '../../hardware/pty.js';
import { runCli } from '../cli/run-in-process.js';
import { tempDir } from '../support/edge-fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const noPty = ptyUnavailableReason();
if (noPty) console.log(`provenant sim test skipped: ${noPty}`);

describe.skipIf(noPty !== undefined)('provenant sim + flash + monitor + edge (docs/firmware.md)', () => {
  const tmp = tempDir('provenant-simcli-');
  let sim: ChildProcess | undefined;
  let edge: RunningEdge | undefined;
  let ports: { name: string; port: string }[] = [];

  beforeAll(async () => {
    await ensureFirmwareBuilt();
    sim = spawn(process.execPath, [join(ROOT, 'bin', 'provenant.js'), 'sim', '--boards', '3', '--dir', join(tmp.dir, 'sim')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    ports = await new Promise((resolve, reject) => {
      sim?.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { boards: { name: string; port: string }[] }).boards);
      });
      sim?.once('exit', (code) => reject(new Error(`provenant sim exited with ${code}: ${out}`)));
    });
  }, 120_000); // a firmware build and a tsx start of the sim process: 10-40 s on the loaded machine
  afterAll(async () => {
    await edge?.stop();
    if (sim && sim.exitCode === null) {
      const exited = new Promise((r) => sim?.once('exit', r));
      sim.kill('SIGTERM');
      await exited;
    }
    tmp.cleanup();
  });

  it('prints one port per board; flash, monitor and edge work on them', async () => {
    expect(ports.map((p) => p.name)).toEqual(['sim-1', 'sim-2', 'sim-3']);
    const dir = tmp.dir;
    const aa = join(dir, 'aa');
    expect((await runCli('authority', 'init', '--dir', aa)).code).toBe(0);
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ id: 'plant-3', anyOf: [{ site: 'plant-3' }] }));
    const ledger = join(dir, 'ledger.db');
    expect((await runCli('device', 'configure', '--db', ledger, '--authority', aa, '--policy', join(dir, 'policy.json'))).code).toBe(0);
    // The edge registry (issue 11): the edge says who it is, the authority binds that identity to edge-1.
    const who = await runCli('device', 'whoami', '--db', ledger, '--identity', 'edge-1', '--json');
    expect(who.code, who.err).toBe(0);
    writeFileSync(join(dir, 'edge-1.whoami.json'), who.out);
    expect(
      (await runCli('device', 'register-edge', '--db', ledger, '--edge', 'edge-1', '--whoami', join(dir, 'edge-1.whoami.json'))).code,
    ).toBe(0);
    for (let i = 1; i <= 3; i++) {
      const id = `dev-${i}`;
      const attrs = ['site=plant-3', 'line=l1', 'type=temperature', 'owner=acme', 'fw=1'];
      expect((await runCli('authority', 'enroll', '--dir', aa, '--device', id, '--attr', ...attrs, '--board', 'PICO')).code).toBe(0);
      const reg = await runCli(
        'device',
        'register',
        '--db',
        ledger,
        '--registration',
        join(aa, `${id}.registration.json`),
        '--device-file',
        join(aa, `${id}.device.json`),
        '--gateway',
        'edge-1',
      );
      expect(reg.code, reg.err).toBe(0);
      const flashed = await runCli(
        'flash',
        '--board',
        'PICO',
        '--port',
        ports[i - 1]!.port,
        '--device',
        join(aa, `${id}.device.json`),
        '--interval',
        '1000',
      );
      expect(flashed.code, flashed.err).toBe(0);
      expect(flashed.out).toMatch(new RegExp(`flashed ${id} on `));
    }

    const mon = await runCli('monitor', '--port', ports[0]!.port, '--device', join(aa, 'dev-1.device.json'), '--count', '1', '--json');
    expect(mon.code, mon.err).toBe(0);
    expect(JSON.parse(mon.out.trim().split('\n')[0]!)).toMatchObject({ kind: 'HELLO', deviceId: 'dev-1' });

    mkdirSync(join(dir, 'creds'));
    for (const f of readdirSync(aa).filter((f) => f.endsWith('.credential.json'))) cpSync(join(aa, f), join(dir, 'creds', f));
    const config = join(dir, 'edge.yaml');
    writeFileSync(
      config,
      [
        'edgeId: edge-1',
        'dataDir: edge-data',
        'credentials: { dir: creds, issuerPkFile: aa/issuer.public.json }',
        'policy: { id: plant-3, anyOf: [ { site: plant-3 } ] }',
        'boards:',
        ...ports.map((p) => `  - serial: { path: ${p.port} }`),
        'ledger: { type: embedded, path: ledger.db }',
        'traffic: { enabled: false }',
        '',
      ].join('\n'),
    );
    const check = await runCli('edge', '--config', config, '--check');
    expect(check.out).toBe('config ok: edge edge-1, 3 board(s), 3 credential(s), ledger embedded\n');
    edge = await startEdge(await loadConfig(config), { log: silentLog });
    const deadline = Date.now() + 60_000;
    const committed = (): number[] =>
      ['dev-1', 'dev-2', 'dev-3'].map((id) => edge?.runtime.deviceViews().find((v) => v.deviceId === id)?.committed ?? 0);
    while (committed().some((n) => n < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(
      committed().every((n) => n >= 2),
      `committed per board: ${committed().join(', ')}`,
    ).toBe(true);
  }, 300_000);
});
