/**
 * The chaincode server's own checks, which need no peer: a bad address or id is refused, it
 * refuses to serve when fabric-gateway's protos loaded first (a clear message instead of gRPC's
 * "Error serializing response"), and `provenant chaincode serve` as a process: listening line from
 * CHAINCODE_* environment, clean exit on SIGTERM, non-zero exit without an id. Serving a real peer
 * (registration, transactions, transient data, errors) is tested on the real network:
 * test/fabric/client.test.ts, contracts.test.ts, faults.test.ts and docs.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startChaincodeServer } from '../../ledger-bridge/fabric/chaincode-server.js';
import { CounterContract } from './fixtures/test-contract.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('chaincode server arguments', () => {
  it('refuses a bad address and a missing id', async () => {
    await expect(startChaincodeServer({ address: 'nohost', chaincodeId: 'x', contracts: [CounterContract] })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
    });
    await expect(startChaincodeServer({ address: '127.0.0.1:0', chaincodeId: ' ', contracts: [CounterContract] })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
    });
  });

  it('listens on port 0 and reports the port it bound, and the contracts it serves', async () => {
    const server = await startChaincodeServer({ address: '127.0.0.1:0', chaincodeId: 'provenant_1.0:abc', contracts: [CounterContract] });
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(server.contractNames).toEqual(['Counter']);
    } finally {
      await server.close();
    }
  });
});

describe('protos load order', () => {
  it('refuses, with a clear message, to serve after fabric-gateway loaded its protos first', async () => {
    const out = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fabric/fixtures/load-order.ts')], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      c.stdout?.on('data', (d: Buffer) => (text += d.toString()));
      c.on('exit', () => resolve(text));
    });
    expect(out).toMatch(/fabric-shim cannot serve: @hyperledger\/fabric-protos of fabric-gateway was loaded before fabric-shim/);
  });
});

describe('`provenant chaincode serve` as a process', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('starts from CHAINCODE_* env, says where it listens, and exits 0 on SIGTERM', async () => {
    child = spawn(
      process.execPath,
      [join(root, 'bin/provenant.js'), 'chaincode', 'serve', '--contracts-module', join(root, 'test/fabric/fixtures/test-contract.ts')],
      {
        env: { ...process.env, CHAINCODE_SERVER_ADDRESS: '127.0.0.1:0', CHAINCODE_ID: 'provenant_1.0:env' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child?.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /chaincode server listening (\{.*\})/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child?.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      child?.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const info = JSON.parse(line) as { port: number; id: string; contracts: string[]; tls: boolean };
    expect(info).toMatchObject({ id: 'provenant_1.0:env', contracts: ['Counter'], tls: false });
    expect(info.port).toBeGreaterThan(0);
    // SIGTERM stops it cleanly (systemd's stop), exit code 0.
    child.removeAllListeners('exit');
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  });

  it('exits non-zero with a clear message when the id is missing', async () => {
    const res = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [join(root, 'bin/provenant.js'), 'chaincode', 'serve', '--address', '127.0.0.1:0'], {
        env: { ...process.env, CHAINCODE_ID: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      c.on('exit', (code) => resolve({ code, err }));
    });
    expect(res.code).not.toBe(0);
    expect(res.err).toMatch(/--id \(or CHAINCODE_ID\) is required/);
  });
});
