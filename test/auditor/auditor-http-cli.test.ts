/**
 * `provenant auditor head|check|serve` through the CLI against a running embedded ledger (H4b's
 * HTTP server on an ephemeral port over a real SQLite file, real contracts, enrolled devices and
 * committed readings from the contract fixture). `serve` runs as the real program (node
 * bin/provenant.js in a child process, spawned asynchronously so this process keeps serving the
 * ledger) and stops on SIGTERM; head and check run the same CLI in this process
 * (test/cli/run-in-process.ts), sparing a 2-4 s TypeScript start-up per command.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLedgerServer } from '../../ledger-bridge/embedded/http/server.js';
import type { PartialSignatureJson } from '../../shared/crypto/credential.js';
import type { Enrollment } from '../../shared/crypto/outsourced.js';
import { partialFor, readingOf, recordBatch, signed, World } from '../contracts/fixture.js';
import { runCli } from '../cli/run-in-process.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'provenant.js');
const LEDGER_TOKEN = 'auditor-cli-ledger-token-0123456789';
const AUDITOR_TOKEN = 'auditor-cli-auditor-token-0123456789';

/** The CLI in this process, with the ledger token in its environment. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const before = process.env['PROVENANT_LEDGER_TOKEN'];
  process.env['PROVENANT_LEDGER_TOKEN'] = LEDGER_TOKEN;
  try {
    const r = await runCli(...args);
    return { code: r.code, stdout: r.out, stderr: r.err };
  } finally {
    if (before === undefined) delete process.env['PROVENANT_LEDGER_TOKEN'];
    else process.env['PROVENANT_LEDGER_TOKEN'] = before;
  }
}
const lastJson = (s: string): Record<string, unknown> => JSON.parse(s.trim().split('\n').pop() as string) as Record<string, unknown>;

describe('provenant auditor (CLI)', { timeout: 180_000 }, () => {
  let w: World;
  let server: FastifyInstance;
  let url: string;
  let dev: Enrollment;
  let p: PartialSignatureJson;
  let seq = 0;
  const more = async (): Promise<void> => {
    seq += 1;
    const r = await recordBatch(w, [signed(dev.device.kIoT, readingOf('dev-c', seq, p))], seq === 1 ? [p] : []);
    expect(r.accepted, JSON.stringify(r.rejected)).toBe(1);
  };

  beforeAll(async () => {
    w = await World.open();
    dev = (await w.enroll('dev-c')).enrollment;
    p = partialFor(dev.credential, 1);
    await more();
    server = await buildLedgerServer(w.ledger, { tokens: new Map([[LEDGER_TOKEN, 'auditor']]), logger: false });
    url = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await w.close();
  });

  it('head --save writes the head; check exits 0 after more blocks, 1 against a forged head or a head from the future', async () => {
    const saved = join(w.dir, 'head.json');
    const head = await cli('auditor', 'head', '--ledger', url, '--save', saved);
    expect(head.code, head.stderr).toBe(0);
    expect(lastJson(head.stdout)).toEqual(await w.auditor.head());

    await more();
    await more();
    const ok = await cli('auditor', 'check', '--ledger', url, '--saved', saved);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/extends the saved head/);
    const r = lastJson(ok.stdout);
    expect(r).toMatchObject({ extends: true, method: 'consistency-proof', saved: lastJson(head.stdout) });
    expect((r['current'] as { height: number }).height).toBeGreaterThan((r['saved'] as { height: number }).height);

    const savedHead = lastJson(head.stdout) as { height: number; hash: string };
    const forgedFile = join(w.dir, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify({ height: savedHead.height, hash: 'cd'.repeat(32) }));
    const forged = await cli('auditor', 'check', '--ledger', url, '--saved', forgedFile, '--json');
    expect(forged.code).toBe(1);
    expect(lastJson(forged.stdout)).toMatchObject({ extends: false });

    const futureFile = join(w.dir, 'future.json');
    writeFileSync(futureFile, JSON.stringify({ height: savedHead.height + 100, hash: savedHead.hash }));
    const future = await cli('auditor', 'check', '--ledger', url, '--saved', futureFile);
    expect(future.code).toBe(1);
    expect(future.stdout).toMatch(/ahead of the ledger/);
  });

  it('bad arguments: a malformed saved head, no ledger, two ledgers — non-zero exit with a message', async () => {
    const junk = join(w.dir, 'junk.json');
    writeFileSync(junk, '{"height": 0}');
    const bad = await cli('auditor', 'check', '--ledger', url, '--saved', junk);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/height/);
    const none = await cli('auditor', 'head');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/exactly one of/);
    const two = await cli('auditor', 'head', '--ledger', url, '--ledger-db', join(w.dir, 'x.db'));
    expect(two.code).not.toBe(0);
    const noToken = await cli('auditor', 'serve', '--ledger', url, '--port', '0', '--token-file', join(w.dir, 'missing-token'));
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toMatch(/token-file/);
  });

  it('--help on every auditor command', async () => {
    for (const sub of [[], ['serve'], ['head'], ['check']]) {
      const h = await cli('auditor', ...sub, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/^Usage: provenant auditor/);
    }
  });

  it('serve: listens, answers /head and /verify with the bearer token, refuses without it, stops on SIGTERM', async () => {
    const tokenFile = join(w.dir, 'auditor.token');
    writeFileSync(tokenFile, `${AUDITOR_TOKEN}\n`);
    const child = spawn(
      process.execPath,
      [
        bin,
        'auditor',
        'serve',
        '--ledger',
        url,
        '--port',
        '0',
        '--token-file',
        tokenFile,
        '--db',
        join(w.dir, 'prov.db'),
        '--log-level',
        'silent',
      ],
      {
        cwd: root,
        env: { ...process.env, PROVENANT_LEDGER_TOKEN: LEDGER_TOKEN },
      },
    );
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      const address = await new Promise<string>((res, rej) => {
        let out = '';
        child.stderr.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) res(m[1] as string);
        });
        child.on('exit', () => rej(new Error(`serve exited early: ${out}`)));
      });
      const headers = { authorization: `Bearer ${AUDITOR_TOKEN}`, 'content-type': 'application/json' };
      const head = await fetch(`${address}/head`, { headers });
      expect(head.status).toBe(200);
      expect(await head.json()).toEqual(await w.auditor.head());
      expect((await fetch(`${address}/head`)).status).toBe(401);
      const v = await fetch(`${address}/verify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ deviceId: 'dev-c', seq: 9999, data: 'ab' }),
      });
      expect(await v.json()).toMatchObject({ verdict: 'NOT_FOUND' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // stdout is pino's: JSON lines only (the 'listening on' line goes to stderr).
    for (const line of stdout.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  });
});
