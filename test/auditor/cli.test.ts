/**
 * `provenant device …` and `provenant verify` through the CLI against an embedded ledger file in
 * a temp dir: the authority's files from `provenant authority`, readings committed in-process
 * through the same ledger file. The genuine-reading verify runs the real program (node
 * bin/provenant.js in a child process); the other commands run the same CLI in this process
 * (test/cli/run-in-process.ts), which spares a 2-4 s TypeScript start-up per command.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCredentialFile, readDeviceFile } from '../../cli/authority-store.js';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import { ready } from '../../shared/crypto/bbs.js';
import { complete } from '../../shared/crypto/complete.js';
import { partialToJson } from '../../shared/crypto/credential.js';
import { signPartial } from '../../shared/crypto/outsourced.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toSubmission } from '../../shared/records.js';
import { runCli } from '../cli/run-in-process.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'provenant.js');
const POLICY = { id: 'temp-plant-3', anyOf: [{ site: 'plant-3', type: 'temperature' }] };
let tmp: string;
let ledgerDb: string;

/** What a CLI run gave. */
interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real program in a child process. */
function spawnCli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same CLI in this process. */
async function cli(...args: string[]): Promise<CliResult> {
  const r = await runCli(...args);
  return { code: r.code, stdout: r.out, stderr: r.err };
}
/** `provenant device prove --db <the test ledger> --device ID …args` in this process. */
function prove(deviceId: string, ...args: string[]): Promise<CliResult> {
  return cli('device', 'prove', '--db', ledgerDb, '--device', deviceId, ...args);
}
/** `provenant verify --db <the test ledger> --device dev-1 …args` in this process. */
function verifyDev1(...args: string[]): Promise<CliResult> {
  return cli('verify', '--db', ledgerDb, '--device', 'dev-1', ...args);
}
const lastJson = (s: string): Record<string, unknown> => JSON.parse(s.trim().split('\n').pop() as string) as Record<string, unknown>;

beforeAll(async () => {
  await ready();
  tmp = mkdtempSync(join(tmpdir(), 'provenant-verify-'));
  ledgerDb = join(tmp, 'ledger.db');
  const aa = join(tmp, 'aa');
  expect((await cli('authority', 'init', '--dir', aa)).code).toBe(0);
  const enroll = await cli(
    'authority',
    'enroll',
    '--dir',
    aa,
    '--device',
    'dev-1',
    '--attr',
    'site=plant-3',
    'line=L1',
    'type=temperature',
    'owner=acme',
    'fw=1.0',
  );
  expect(enroll.code, enroll.stderr).toBe(0);
  writeFileSync(join(tmp, 'policy.json'), JSON.stringify(POLICY));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('provenant device', { timeout: 180_000 }, () => {
  it('configure, register (txId + bcId), show, prove TRUE / FALSE / not found / signature mismatch', async () => {
    const aa = join(tmp, 'aa');
    const conf = await cli('device', 'configure', '--db', ledgerDb, '--authority', aa, '--policy', join(tmp, 'policy.json'));
    expect(conf.code, conf.stderr).toBe(0);

    const reg = await cli(
      'device',
      'register',
      '--db',
      ledgerDb,
      '--registration',
      join(aa, 'dev-1.registration.json'),
      '--device-file',
      join(aa, 'dev-1.device.json'),
      '--gateway',
      'edge-1',
    );
    expect(reg.code, reg.stderr).toBe(0);
    const regResult = lastJson(reg.stdout);
    expect(regResult['txId']).toMatch(/^[0-9a-f]{64}$/);
    expect(regResult['bcId']).toMatch(/^[0-9a-f]{64}$/);
    const kIoT = readDeviceFile(join(aa, 'dev-1.device.json')).kIoT;
    expect(reg.stdout + reg.stderr).not.toContain(Buffer.from(kIoT).toString('hex'));

    // The edge registry: the edge prints who it is, the authority binds that identity to edge-1.
    const who = await cli('device', 'whoami', '--db', ledgerDb, '--identity', 'edge-1', '--json');
    expect(who.code, who.stderr).toBe(0);
    expect(lastJson(who.stdout)).toEqual({ mspId: 'EdgeMSP', id: 'x509::/CN=edge-1::/CN=ca', edgeId: '' });
    writeFileSync(join(tmp, 'edge-1.whoami.json'), who.stdout);
    const edge = await cli('device', 'register-edge', '--db', ledgerDb, '--edge', 'edge-1', '--whoami', join(tmp, 'edge-1.whoami.json'));
    expect(edge.code, edge.stderr).toBe(0);
    expect(lastJson(edge.stdout)).toMatchObject({ edgeId: 'edge-1', mspId: 'EdgeMSP', status: 'active', version: 1 });
    // Only the authority keeps the registry.
    const self = await cli(
      'device',
      'register-edge',
      '--db',
      ledgerDb,
      '--identity',
      'edge-1',
      '--edge',
      'edge-2',
      '--whoami',
      join(tmp, 'edge-1.whoami.json'),
    );
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/PROV_ERR_FORBIDDEN/);

    const show = await cli('device', 'show', '--db', ledgerDb, '--device', 'dev-1', '--json');
    expect(lastJson(show.stdout)).toMatchObject({ deviceId: 'dev-1', status: 'active', gatewayId: 'edge-1' });

    const meta = join(tmp, 'meta.json');
    const registration = JSON.parse(readFileSync(join(aa, 'dev-1.registration.json'), 'utf8')) as { attributes: Record<string, string> };
    writeFileSync(meta, JSON.stringify({ attributes: registration.attributes, gatewayId: 'edge-1' }));
    const ok = await prove('dev-1', '--metadata', meta, '--device-file', join(aa, 'dev-1.device.json'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^TRUE/);

    writeFileSync(meta, JSON.stringify({ attributes: { ...registration.attributes, site: 'elsewhere' }, gatewayId: 'edge-1' }));
    const wrongMeta = await prove('dev-1', '--metadata', meta, '--device-file', join(aa, 'dev-1.device.json'));
    expect(wrongMeta.code).toBe(1);
    expect(wrongMeta.stdout).toMatch(/^FALSE METADATA_MISMATCH/);

    // A challenge taken first (the ledger picks it), answered later with a wrong response.
    const issued = await cli('device', 'challenge', '--db', ledgerDb, '--device', 'dev-1', '--json');
    expect(issued.code, issued.stderr).toBe(0);
    const challenge = lastJson(issued.stdout)['challenge'] as string;
    expect(challenge).toMatch(/^[0-9a-f]{64}$/);
    const mismatch = await prove('dev-1', '--metadata', meta, '--challenge', challenge, '--response', 'cd'.repeat(32));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/device signature mismatch/);

    const missing = await prove('nobody', '--metadata', meta, '--device-file', join(aa, 'dev-1.device.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/could not find the device/);
  });

  it('refuses bad arguments with a clear message', async () => {
    const both = await cli('device', 'revoke', '--device', 'dev-1');
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/exactly one of --ledger URL .* --db PATH .* --config FILE/);
    writeFileSync(join(tmp, 'x.hex'), 'abcd');
    const fabric = await cli(
      'verify',
      '--config',
      join(tmp, 'missing.yaml'),
      '--device',
      'dev-1',
      '--seq',
      '1',
      '--data',
      join(tmp, 'x.hex'),
    );
    expect(fabric.code).not.toBe(0);
    expect(fabric.stderr).toMatch(/missing\.yaml/);
    const help = await cli('verify', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--timestamp <ms>/);
    const noMeta = await prove('dev-1');
    expect(noMeta.code).not.toBe(0);
    expect(noMeta.stderr).toMatch(/--metadata/);
  });
});

describe('provenant verify', { timeout: 180_000 }, () => {
  let good: string;
  let tampered: string;

  beforeAll(async () => {
    const aa = join(tmp, 'aa');
    const credential = readCredentialFile(join(aa, 'dev-1.credential.json'));
    const { kIoT } = readDeviceFile(join(aa, 'dev-1.device.json'));
    const partial = partialToJson(signPartial(credential, { epoch: 1, edgeId: 'edge-1', policy: POLICY }));
    const reading = {
      deviceId: 'dev-1',
      seq: 1,
      t: 1_700_000_000_000,
      epoch: 1,
      partialDigest: Buffer.from(partial.partialDigest, 'hex'),
      batteryMv: 3000,
      channels: [{ id: 0, scale: -1, value: 215 }],
      bootCount: 1,
      uptimeMs: 1000,
    };
    const sub = toSubmission({ reading, tag: complete(sha256, kIoT, reading) }, 'edge-1', reading.t + 3, ['device:dev-1', 'edge:edge-1']);
    const client = await EmbeddedLedgerClient.open({ path: ledgerDb, contracts, identity: 'edge-1' });
    try {
      const r = await client.submit({
        contract: CONTRACTS.dataProvenance,
        fn: 'recordBatch',
        args: [JSON.stringify({ version: 1, readings: [sub], partials: [partial] })],
      });
      expect(JSON.parse(Buffer.from(r.result).toString())).toMatchObject({ accepted: 1 });
    } finally {
      await client.close();
    }
    good = join(tmp, 'good.json');
    writeFileSync(good, JSON.stringify(sub));
    tampered = join(tmp, 'tampered.hex');
    const t = { ...reading, channels: [{ id: 0, scale: -1, value: 999 }] };
    writeFileSync(tampered, toSubmission({ reading: t, tag: complete(sha256, kIoT, t) }, 'edge-1', 0, ['x']).canonical);
  }, 120_000);

  it('TRUE with evidence and exit 0 for the genuine reading', async () => {
    const r = spawnCli('verify', '--db', ledgerDb, '--device', 'dev-1', '--seq', '1', '--data', good);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^verdict: TRUE \(genuine\)/);
    expect(r.stdout).toMatch(/inclusion proof: checked OK; head height \d+/);
    const j = await verifyDev1('--timestamp', '1700000000000', '--data', good, '--json');
    expect(j.code).toBe(0);
    expect(lastJson(j.stdout)).toMatchObject({ verdict: 'TRUE', genuine: true, evidence: { proofCheck: { ok: true } } });
  });

  it('--save-head then --trusted-head: a later check proves the chain extends the saved head', async () => {
    const headFile = join(tmp, 'head.json');
    expect((await verifyDev1('--seq', '1', '--data', good, '--save-head', headFile)).code).toBe(0);
    const saved = JSON.parse(readFileSync(headFile, 'utf8')) as { height: number; hash: string };
    expect(saved.hash).toMatch(/^[0-9a-f]{64}$/);
    const r = await verifyDev1('--seq', '1', '--data', good, '--trusted-head', headFile);
    expect(r.code, r.stderr).toBe(0);
    const forged = await verifyDev1('--seq', '1', '--data', good, '--trusted-head', `${saved.height}:${'ab'.repeat(32)}`, '--json');
    expect(forged.code).toBe(1);
    expect(lastJson(forged.stdout)).toMatchObject({ verdict: 'UNPROVEN', genuine: false });
    // the human headline says so too (issue #13, defect 2: it used to say "verdict: TRUE")
    const human = await verifyDev1('--seq', '1', '--data', good, '--trusted-head', `${saved.height}:${'ab'.repeat(32)}`);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^verdict: UNPROVEN — record NOT proven: .*inclusion proof FAILED/);
    expect(human.stdout).not.toMatch(/verdict: TRUE/);
  });

  it("--issuer-public: the partial is re-verified under the authority's key; another authority's key is UNPROVEN (exit 1)", async () => {
    const pinned = await verifyDev1('--seq', '1', '--data', good, '--json', '--issuer-public', join(tmp, 'aa', 'issuer.public.json'));
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(lastJson(pinned.stdout)).toMatchObject({ verdict: 'TRUE', evidence: { partial: { keyFrom: 'pinned', check: { ok: true } } } });
    const other = join(tmp, 'other-aa');
    expect((await cli('authority', 'init', '--dir', other)).code).toBe(0);
    const r = await verifyDev1('--seq', '1', '--data', good, '--json', '--issuer-public', join(other, 'issuer.public.json'));
    expect(r.code).toBe(1);
    expect(lastJson(r.stdout)).toMatchObject({ verdict: 'UNPROVEN', genuine: false, evidence: { partial: { check: { ok: false } } } });
  });

  it('FALSE (exit 1) for tampered data, not found (exit 1) for an unknown seq', async () => {
    const f = await verifyDev1('--seq', '1', '--data', tampered);
    expect(f.code).toBe(1);
    expect(f.stdout).toMatch(/^verdict: FALSE/);
    const n = await verifyDev1('--seq', '7', '--data', good, '--json');
    expect(n.code).toBe(1);
    expect(lastJson(n.stdout)).toMatchObject({ verdict: 'NOT_FOUND' });
  });

  it('refuses bad arguments', async () => {
    expect((await verifyDev1('--data', good)).stderr).toMatch(/exactly one of --seq N or --timestamp MS/);
    expect((await verifyDev1('--seq', '1')).stderr).toMatch(/--data FILE, or --provenance-db/);
    expect((await verifyDev1('--seq', 'x', '--data', good)).code).not.toBe(0);
  });

  it('revoke, after which the record still verifies but the device is shown revoked', async () => {
    const r = await cli('device', 'revoke', '--db', ledgerDb, '--device', 'dev-1', '--reason', 'lost');
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson((await cli('device', 'show', '--db', ledgerDb, '--device', 'dev-1', '--json')).stdout)).toMatchObject({
      status: 'revoked',
      revokedReason: 'lost',
    });
    expect((await verifyDev1('--seq', '1', '--data', good)).code).toBe(0);
  });
});
