import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';

interface TxMeta {
  name: string;
  tag: string[];
  parameters: { name: string; schema: { type: string } }[];
  returns?: { type: string };
}

function metadataOf(): Record<string, TxMeta[]> {
  const out: Record<string, TxMeta[]> = {};
  for (const C of contracts) {
    const c = new C();
    out[c.getName()] = (Reflect.getMetadata('fabric:transactions', c) as TxMeta[]).slice().sort((a, b) => a.name.localeCompare(b.name));
  }
  return out;
}

// prove is a write: it consumes the challenge it answers (issue 11, attack 7).
const READS = [
  'getConfig',
  'get',
  'getMany',
  'history',
  'verify',
  'verifyMany',
  'getPartial',
  'getProfile',
  'listProfiles',
  'getEdge',
  'whoami',
  'getTraffic',
  'signatureLevel',
  'signatureLevelMany',
  'signatureReport',
];

describe('contract metadata (what fabric-shim dispatches by)', () => {
  const meta = metadataOf();

  it('exports the four contracts under the CONTRACTS names', () => {
    expect(Object.keys(meta).sort()).toEqual(Object.values(CONTRACTS).sort());
  });

  it('declares every parameter after ctx as a named string, and returns a string', () => {
    for (const C of contracts) {
      const c = new C() as unknown as Record<string, (...a: unknown[]) => unknown>;
      for (const tx of meta[(c as unknown as { getName(): string }).getName()] ?? []) {
        const fn = c[tx.name] as (...a: unknown[]) => unknown;
        expect(tx.parameters.length, `${tx.name} parameter count`).toBe(fn.length - 1);
        for (const p of tx.parameters) expect(p.schema, `${tx.name}.${p.name}`).toEqual({ type: 'string' });
        expect(tx.returns, tx.name).toEqual({ type: 'string' });
      }
    }
  });

  it('marks reads as EVALUATE and writes as SUBMIT', () => {
    for (const list of Object.values(meta)) {
      for (const tx of list) expect(tx.tag.includes('EVALUATE'), tx.name).toBe(READS.includes(tx.name));
    }
  });

  it('gives the same metadata when loaded by tsx (esbuild emits no design:paramtypes)', () => {
    const script = `
      const { contracts } = await import('./ledger-bridge/contracts/index.ts');
      const out = {};
      for (const C of contracts) { const c = new C(); out[c.getName()] = Reflect.getMetadata('fabric:transactions', c).slice().sort((a, b) => a.name.localeCompare(b.name)); }
      process.stdout.write(JSON.stringify(out));`;
    const text = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      encoding: 'utf8',
    });
    const viaTsx = JSON.parse(text.slice(text.indexOf('{'))) as Record<string, TxMeta[]>;
    expect(text.slice(0, text.indexOf('{'))).toBe('');
    const strip = (m: Record<string, TxMeta[]>) =>
      Object.fromEntries(
        Object.entries(m).map(([k, v]) => [
          k,
          v.map((t) => ({ name: t.name, tag: t.tag, returns: t.returns, parameters: t.parameters.map((p) => [p.name, p.schema.type]) })),
        ]),
      );
    expect(strip(viaTsx)).toEqual(strip(meta));
  });
});
