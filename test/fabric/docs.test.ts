/**
 * docs/fabric.md, walked as an operator would: every `sh` block of the page, in document order,
 * runs in ONE bash shell (so `cd`, `export` and background jobs carry over, as in a terminal),
 * against a REAL Fabric 2.4.9 network that the page's own development-network block starts from
 * the Fabric kit. Each command must exit 0, and the `# → …` lines under it must appear in what it
 * printed (fragments between `…` in order). The page cannot drift from what works.
 *
 * What the test does itself, because the page asks for an edit rather than a command: §6's
 * config fields (peerEndpoint, tlsCaCertPath, …) in a copy of deploy/fabric/config, filled with
 * three distinct Org1 identities (authority, edge-1, auditor) signed by the network's CA; and it
 * picks free ports (the kit's *_PORT variables, CC_ADDRESS/CC_LISTEN) so runs can overlap.
 * The page's commands run in a temp folder holding a copy of deploy/ and a link to bin/.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadFabricConfig } from '../../ledger-bridge/fabric/config.js';
import { describeFabric, fabricKitDir, FabricTestNetwork, freePort, parseEnvFile, REPO } from '../support/fabric/index.js';

/** One command of the page and what it must print. */
interface Step {
  readonly section: string;
  readonly command: string;
  readonly expect: string[];
}

/** The `sh` blocks of a markdown page, split into commands (a trailing `\` continues a line). */
export function stepsOf(markdown: string): Step[] {
  const steps: Step[] = [];
  let section = '';
  let inSh = false;
  let fence = false;
  let pending = '';
  for (const line of markdown.split('\n')) {
    if (!fence && /^## /.test(line)) section = line.slice(3).trim();
    if (/^```/.test(line)) {
      if (!fence) {
        fence = true;
        inSh = line.trim() === '```sh';
      } else {
        fence = false;
        inSh = false;
      }
      continue;
    }
    if (!inSh) continue;
    const arrow = /^# → (.*)$/.exec(line);
    if (arrow) {
      steps.at(-1)?.expect.push(arrow[1] as string);
      continue;
    }
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    pending += (pending ? '\n' : '') + line;
    if (line.endsWith('\\')) continue;
    steps.push({ section, command: pending, expect: [] });
    pending = '';
  }
  return steps;
}

/** Does `out` contain the fragments of `pattern` (split on …) in order? */
export function matches(out: string, pattern: string): boolean {
  let at = 0;
  for (const part of pattern.split('…').map((p) => p.trim())) {
    if (part === '') continue;
    const i = out.indexOf(part, at);
    if (i < 0) return false;
    at = i + part.length;
  }
  return true;
}

/** A bash process fed one command at a time; stderr is merged into stdout. */
class Shell {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private n = 0;
  constructor(cwd: string, env: Record<string, string>) {
    this.proc = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d: Buffer) => (this.buf += d.toString()));
    this.proc.stderr.on('data', (d: Buffer) => (this.buf += d.toString()));
    this.proc.stdin.write('exec 2>&1\n');
  }
  run(command: string, timeoutMs: number): Promise<{ code: number; out: string }> {
    const marker = `__docs_walk_${++this.n}_done__`;
    this.buf = '';
    this.proc.stdin.write(`${command}\n__rc=$?; printf '\\n${marker} %s\\n' "$__rc"\n`);
    return new Promise((res, rej) => {
      const end = Date.now() + timeoutMs;
      const poll = (): void => {
        const m = new RegExp(`\\n${marker} (\\d+)\\n`).exec(this.buf);
        if (m) return res({ code: Number(m[1]), out: this.buf.slice(0, m.index) });
        if (this.proc.exitCode !== null) return rej(new Error(`the shell exited (${this.proc.exitCode}):\n${this.buf.slice(-3000)}`));
        if (Date.now() > end) return rej(new Error(`timed out after ${timeoutMs} ms:\n${this.buf.slice(-3000)}`));
        setTimeout(poll, 50);
      };
      poll();
    });
  }
  close(): void {
    this.proc.stdin.end();
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
  }
}

const kit = fabricKitDir();
const tmp = mkdtempSync(join(tmpdir(), 'prov-docs-walk-'));
const work = join(tmp, 'repo');
const fabnet = join(tmp, 'fabnet');

it('the page has the sections and commands this walk depends on', () => {
  const steps = stepsOf(readFileSync(join(REPO, 'docs', 'fabric.md'), 'utf8'));
  const sections = [...new Set(steps.map((s) => s.section.split('.')[0]))];
  expect(sections).toEqual(['1', '3', '4', '5', '6', '7']);
  expect(steps.some((s) => s.command.includes('up.sh'))).toBe(true);
  expect(steps.some((s) => s.command.includes('chaincode serve') && s.command.trimEnd().includes('&'))).toBe(true);
  expect(steps.filter((s) => s.expect.length > 0).length).toBeGreaterThanOrEqual(10);
  expect(matches('a b c d', 'a … c')).toBe(true);
  expect(matches('a b c d', 'c … a')).toBe(false);
});

describeFabric('docs/fabric.md, walked on a real network', () => {
  let shell: Shell | undefined;

  beforeAll(async () => {
    // The operator's checkout: deploy/ is edited and packaged in place, bin/ runs the CLI.
    cpSync(join(REPO, 'deploy'), join(work, 'deploy'), {
      recursive: true,
      filter: (src) => !src.endsWith('provenant.tgz'),
    });
    symlinkSync(join(REPO, 'bin'), join(work, 'bin'));
    const ports = await Promise.all(Array.from({ length: 7 }, () => freePort()));
    const names = ['ORDERER_PORT', 'ORDERER_ADMIN_PORT', 'ORDERER_OPS_PORT', 'PEER_PORT', 'PEER_CC_PORT', 'PEER_OPS_PORT'];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmp,
      TMPDIR: process.env.TMPDIR ?? tmpdir(),
      FABRIC_KIT: kit as string,
      FABNET_DIR: fabnet,
      // A shorter block cut than the default 2 s: the same commands, fewer seconds waiting.
      FABNET_BATCH_TIMEOUT: '200ms',
      CC_ADDRESS: `127.0.0.1:${ports[6]}`,
      CC_LISTEN: `127.0.0.1:${ports[6]}`,
    };
    names.forEach((n, i) => (env[n] = String(ports[i])));
    shell = new Shell(work, env);
  });

  afterAll(async () => {
    if (shell) {
      // the chaincode server the page started in the background, then the network
      await shell.run('kill $(jobs -p) 2>/dev/null; wait', 30_000).catch(() => undefined);
      shell.close();
    }
    if (existsSync(join(fabnet, 'run'))) {
      await new Promise((r) =>
        spawn('bash', [join(kit as string, 'down.sh')], { env: { ...process.env, FABNET_DIR: fabnet }, stdio: 'ignore' }).once('exit', r),
      );
    }
    if (process.env.PROVENANT_FABRIC_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
  });

  /** §6: the fields the page says to set, for three identities of the network's Org1. */
  function editConfigs(section6: string): void {
    const net = FabricTestNetwork.attach({
      kit: kit as string,
      dir: fabnet,
      env: parseEnvFile(readFileSync(join(fabnet, 'network.env'), 'utf8')),
    });
    const who: Record<string, string> = { 'authority.yaml': 'aa', 'edge.yaml': 'edge-1', 'auditor.yaml': 'auditor' };
    for (const [file, name] of Object.entries(who)) {
      const id = net.identity(name);
      const path = join(work, 'deploy', 'fabric', 'config', file);
      const doc = YAML.parse(readFileSync(path, 'utf8')) as { ledger: Record<string, unknown> };
      const fields = {
        peerEndpoint: net.peerEndpoint,
        tlsCaCertPath: net.env.PEER_TLS_CA,
        hostNameOverride: net.env.PEER_HOST_ALIAS,
        mspId: id.mspId,
        certPath: id.certPath,
        keyPath: id.keyPath,
        channel: net.channel,
        chaincode: 'provenant',
      };
      // the page names every field this edit sets
      for (const f of Object.keys(fields)) expect(section6, `docs/fabric.md §6 names ${f}`).toContain(`\`${f}\``);
      Object.assign(doc.ledger, fields);
      if (file === 'auditor.yaml') doc.ledger.checkpointPath = join(tmp, 'auditor-events.json');
      writeFileSync(path, YAML.stringify(doc));
      expect(loadFabricConfig(path).certPath).toBe(id.certPath);
    }
  }

  it('runs every sh block of sections 1-7 in order, each command exiting 0 and printing what the page says', async () => {
    const page = readFileSync(join(REPO, 'docs', 'fabric.md'), 'utf8');
    const section6 = page.slice(page.indexOf('## 6.'), page.indexOf('## 7.'));
    const steps = stepsOf(page);
    const sh = shell as Shell;
    let edited = false;
    const took: { command: string; s: number }[] = [];
    for (const step of steps) {
      const t0 = Date.now();
      if (step.section.startsWith('6.') && !edited) {
        editConfigs(section6);
        edited = true;
      }
      const timeout = /demo|up\.sh/.test(step.command) ? 600_000 : 180_000; // a step timed out at 300 s at load ~25
      const { code, out } = await sh.run(step.command, timeout);
      took.push({ command: step.command.split('\n')[0] as string, s: (Date.now() - t0) / 1000 });
      // on failure, the logs the page's commands write are the useful part
      const logs = code === 0 ? '' : (await sh.run('tail -n 30 demo.log chaincode.log 2>/dev/null', 10_000)).out;
      const where = `docs/fabric.md §${step.section.split(' ')[0]}: ${step.command}\n--- output ---\n${out.slice(-4000)}${logs}`;
      expect(code, where).toBe(0);
      for (const e of step.expect) expect(matches(out, e), `expected "${e}" in the output of ${where}`).toBe(true);
      if (step.command.includes('chaincode serve') && step.command.trimEnd().endsWith('&')) {
        // record the background server so the kit's down.sh stops it even if this test dies
        await sh.run('echo $! > "$FABNET_DIR/run/cc-docs.pid"; readlink -f "$(command -v node)" > "$FABNET_DIR/run/cc-docs.exe"', 10_000);
      }
    }
    expect(edited).toBe(true);
    const slowest = [...took].sort((a, b) => b.s - a.s).slice(0, 6);
    process.stderr.write(
      `[docs walk] ${took.length} commands in ${took.reduce((a, t) => a + t.s, 0).toFixed(1)} s; slowest: ${slowest.map((t) => `${t.s.toFixed(1)} s ${t.command.slice(0, 60)}`).join(' | ')}\n`,
    );
    // the package id the page installed is the one a second package.sh run gives (reproducible)
    const again = await sh.run(
      '(cd deploy/fabric/package && sh package.sh >/dev/null && peer lifecycle chaincode calculatepackageid provenant.tgz)',
      60_000,
    );
    expect(again.out.trim().split('\n').at(-1)).toBe((await sh.run('echo "$CHAINCODE_ID"', 10_000)).out.trim());
  }, 1_200_000);
});
