/**
 * The deployment kit (deploy/fabric): the external builder scripts run with the arguments a peer
 * passes (detect / build / release on real temp folders), the package script produces the
 * layout `peer lifecycle chaincode install` expects, and the JSON files say what Fabric parses:
 * tls_required as a JSON boolean, the K_IoT collection named as the contracts name it, and the
 * configs validate as FabricLedgerClient configs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { KIOT_COLLECTION } from '../../ledger-bridge/contracts/keys.js';
import { loadFabricConfig } from '../../ledger-bridge/fabric/config.js';

const kit = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'fabric');
const tmp = mkdtempSync(join(tmpdir(), 'prov-kit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (script: string, args: string[]) => spawnSync('sh', [join(kit, 'builder', 'bin', script), ...args], { encoding: 'utf8' });
const dir = (name: string): string => {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
};

describe('external builder scripts, called as the peer calls them', () => {
  it('detect claims ccaas packages and declines others', () => {
    const yes = dir('meta-yes');
    writeFileSync(join(yes, 'metadata.json'), '{"type":"ccaas","label":"provenant_1.0"}');
    const no = dir('meta-no');
    writeFileSync(join(no, 'metadata.json'), '{"type":"node","label":"x","path":""}');
    expect(run('detect', [dir('src'), yes]).status).toBe(0);
    expect(run('detect', [dir('src'), no]).status).toBe(1);
    expect(run('detect', [dir('src'), dir('meta-empty')]).status).toBe(1);
  });

  it('build copies connection.json and metadata; release puts it under chaincode/server', () => {
    const src = dir('b-src');
    cpSync(join(kit, 'package', 'connection.json'), join(src, 'connection.json'));
    const meta = dir('b-meta');
    cpSync(join(kit, 'package', 'metadata.json'), join(meta, 'metadata.json'));
    const out = dir('b-out');
    const b = run('build', [src, meta, out]);
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    expect(readFileSync(join(out, 'connection.json'), 'utf8')).toBe(readFileSync(join(kit, 'package', 'connection.json'), 'utf8'));
    const rel = dir('b-rel');
    expect(run('release', [out, rel]).status).toBe(0);
    const released = JSON.parse(readFileSync(join(rel, 'chaincode', 'server', 'connection.json'), 'utf8')) as Record<string, unknown>;
    expect(released.address).toMatch(/:9999$/);
  });

  it('build refuses tls_required written as a string, naming the trap', () => {
    const src = dir('s-src');
    writeFileSync(join(src, 'connection.json'), '{"address":"cc:9999","dial_timeout":"10s","tls_required":"false"}');
    const meta = dir('s-meta');
    cpSync(join(kit, 'package', 'metadata.json'), join(meta, 'metadata.json'));
    const r = run('build', [src, meta, dir('s-out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/JSON booleans/);
  });

  it('build fails clearly without connection.json', () => {
    const r = run('build', [dir('n-src'), dir('n-meta'), dir('n-out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/connection\.json not found/);
  });
});

describe('chaincode package and config files', () => {
  it('package.sh builds metadata.json + code.tar.gz(connection.json)', () => {
    const pkgDir = join(tmp, 'pkg');
    cpSync(join(kit, 'package'), pkgDir, { recursive: true });
    execFileSync('sh', [join(pkgDir, 'package.sh')], { encoding: 'utf8' });
    const tgz = join(pkgDir, 'provenant.tgz');
    expect(existsSync(tgz)).toBe(true);
    expect(execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual([
      'code.tar.gz',
      'metadata.json',
    ]);
    const x = dir('pkg-x');
    execFileSync('tar', ['xzf', tgz, '-C', x]);
    expect(execFileSync('tar', ['tzf', join(x, 'code.tar.gz')], { encoding: 'utf8' }).trim()).toBe('connection.json');
    expect(JSON.parse(readFileSync(join(x, 'metadata.json'), 'utf8'))).toEqual({ type: 'ccaas', label: 'provenant_1.0' });
  });

  it('package.sh is reproducible: unchanged content gives the same bytes, hence the same package id (issue #13 defect 4)', async () => {
    const pkgDir = join(tmp, 'pkg-repro');
    cpSync(join(kit, 'package'), pkgDir, { recursive: true });
    const build = (): Buffer => {
      execFileSync('sh', [join(pkgDir, 'package.sh')], { encoding: 'utf8' });
      return readFileSync(join(pkgDir, 'provenant.tgz'));
    };
    const first = build();
    // tar and gzip used to store the time: build again in a later second, with the source touched
    const second0 = Math.floor(Date.now() / 1000);
    while (Math.floor(Date.now() / 1000) === second0) await new Promise((r) => setTimeout(r, 20));
    utimesSync(join(pkgDir, 'connection.json'), new Date(), new Date());
    const second = build();
    expect(createHash('sha256').update(second).digest('hex')).toBe(createHash('sha256').update(first).digest('hex'));
    // and different content gives a different package
    writeFileSync(join(pkgDir, 'other.json'), readFileSync(join(pkgDir, 'connection.json'), 'utf8').replace(':9999', ':9998'));
    execFileSync('sh', [join(pkgDir, 'package.sh'), 'other.json'], { encoding: 'utf8' });
    expect(readFileSync(join(pkgDir, 'provenant.tgz')).equals(first)).toBe(false);
  });

  it('connection files use JSON booleans and the fields the peer reads', () => {
    for (const f of ['connection.json', 'connection.tls.json']) {
      const c = JSON.parse(readFileSync(join(kit, 'package', f), 'utf8')) as Record<string, unknown>;
      expect(typeof c.tls_required).toBe('boolean');
      expect(c.address).toMatch(/^[^:]+:\d+$/);
      if (c.tls_required) {
        expect(typeof c.client_auth_required).toBe('boolean');
        for (const k of ['root_cert', 'client_cert', 'client_key']) expect(c[k]).toMatch(/^-----BEGIN /);
      }
    }
  });

  it('the private data collection is the one the contracts use, members only, kept forever', () => {
    const [c] = JSON.parse(readFileSync(join(kit, 'config', 'collections_config.json'), 'utf8')) as Record<string, unknown>[];
    expect(c).toMatchObject({ name: KIOT_COLLECTION, memberOnlyRead: true, memberOnlyWrite: true, blockToLive: 0 });
    expect(String(c?.policy)).toMatch(/^OR\('[A-Za-z0-9]+MSP\.member'\)$/);
  });

  it('edge, auditor and authority configs validate as Fabric client configs', () => {
    for (const f of ['edge.yaml', 'auditor.yaml', 'authority.yaml']) {
      const cfg = loadFabricConfig(join(kit, 'config', f));
      expect(cfg.channel).toBe('mychannel');
      expect(cfg.chaincode).toBe('provenant');
    }
  });
});
