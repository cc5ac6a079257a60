/**
 * The chaincode server answers the chaincode protocol. fabric-shim's own chaincode server
 * (started by startChaincodeServer, and by `provenant chaincode serve` in a child process) is
 * driven over real gRPC on 127.0.0.1 by the stand-in peer's side of the protocol:
 * REGISTER → REGISTERED/READY, then TRANSACTION → GET_STATE / PUT_STATE … → COMPLETED.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaincodeServer, type RunningChaincodeServer } from '../../ledger-bridge/fabric/chaincode-server.js';
import { ChaincodePeerStandIn, type StateView } from '../support/fabric-stand-in/chaincode-peer.js';
import { CounterContract } from './fixtures/test-contract.js';
import { makeProposal } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** An empty committed state with one seeded key. */
function stateWith(entries: Record<string, string>): StateView {
  const m = new Map(Object.entries(entries).map(([k, v]) => [k, { value: Buffer.from(v), version: { block: 3, tx: 1 } }]));
  return {
    get: (_ns, key) => m.get(key),
    getPrivate: () => undefined,
    range: (_ns, start, end) => [...m.keys()].filter((k) => k >= start && (end === '' || k < end)).sort(),
  };
}

describe('chaincode server (fabric-shim) driven as a peer over gRPC', () => {
  let server: RunningChaincodeServer;
  let peer: ChaincodePeerStandIn;

  beforeAll(async () => {
    server = await startChaincodeServer({ address: '127.0.0.1:0', chaincodeId: 'provenant_1.0:abc123', contracts: [CounterContract] });
    peer = await ChaincodePeerStandIn.connect(`127.0.0.1:${server.port}`, { expectedId: 'provenant_1.0:abc123' });
  });
  afterAll(async () => {
    peer?.close();
    await server?.close();
  });

  it('registers with the chaincode id and reaches READY', () => {
    expect(peer.registeredId).toBe('provenant_1.0:abc123');
    expect(peer.handshake).toEqual(['recv REGISTER', 'send REGISTERED', 'send READY']);
    expect(server.contractNames).toEqual(['Counter']);
  });

  it('runs a transaction: GET_STATE, PUT_STATE, event, COMPLETED', async () => {
    const key = '\u0000counter\u0000apples\u0000';
    const { txId, signedProposal, input } = makeProposal({
      channel: 'mychannel',
      chaincode: 'provenant',
      args: ['Counter:add', 'apples', '5'],
    });
    const r = await peer.execute({
      channelId: 'mychannel',
      txId,
      namespace: 'provenant',
      input,
      signedProposal,
      state: stateWith({ [key]: '10' }),
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(Buffer.from(r.payload).toString())).toEqual({ name: 'apples', value: 15, mspId: 'Org1MSP' });
    expect(r.trace).toEqual(['send TRANSACTION', 'recv GET_STATE', 'send RESPONSE', 'recv PUT_STATE', 'send RESPONSE', 'recv COMPLETED']);
    expect(r.simulation.reads.get(key)).toEqual({ block: 3, tx: 1 });
    expect(Buffer.from(r.simulation.writes.get(key) as Uint8Array).toString()).toBe('15');
    expect(r.event?.name).toBe('Counted');
  });

  it('passes transient data to the contract and records the write as private', async () => {
    const secret = Buffer.from('k-iot-0123456789abcdef0123456789');
    const p = makeProposal({ channel: 'mychannel', chaincode: 'provenant', args: ['Counter:deposit', 'dev-1'], transient: { secret } });
    const r = await peer.execute({
      channelId: 'mychannel',
      txId: p.txId,
      namespace: 'provenant',
      input: p.input,
      signedProposal: p.signedProposal,
      state: stateWith({}),
    });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.payload).toString()).toBe(String(secret.length));
    expect(r.simulation.writes.size).toBe(0);
    expect(Buffer.from(r.simulation.privateWrites.get('kIotDeposits')?.get('dev-1') as Uint8Array)).toEqual(secret);
  });

  it('reports a contract error as COMPLETED with status 500 and its message', async () => {
    const p = makeProposal({ channel: 'mychannel', chaincode: 'provenant', args: ['Counter:fail', 'no'] });
    const r = await peer.execute({
      channelId: 'mychannel',
      txId: p.txId,
      namespace: 'provenant',
      input: p.input,
      signedProposal: p.signedProposal,
      state: stateWith({}),
    });
    expect(r.status).toBe(500);
    expect(r.message).toContain('refused: no');
  });

  it('rejects an unknown function with status 500', async () => {
    const p = makeProposal({ channel: 'mychannel', chaincode: 'provenant', args: ['Counter:nope'] });
    const r = await peer.execute({
      channelId: 'mychannel',
      txId: p.txId,
      namespace: 'provenant',
      input: p.input,
      signedProposal: p.signedProposal,
      state: stateWith({}),
    });
    expect(r.status).toBe(500);
    expect(r.message).toMatch(/nope/);
  });

  it('refuses a bad address and a missing id', async () => {
    await expect(startChaincodeServer({ address: 'nohost', chaincodeId: 'x', contracts: [CounterContract] })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
    });
    await expect(startChaincodeServer({ address: '127.0.0.1:0', chaincodeId: ' ', contracts: [CounterContract] })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
    });
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

  it('starts from CHAINCODE_* env, registers and serves a transaction', async () => {
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
    const info = JSON.parse(line) as { port: number; id: string; contracts: string[] };
    expect(info.id).toBe('provenant_1.0:env');
    expect(info.contracts).toEqual(['Counter']);
    const peer = await ChaincodePeerStandIn.connect(`127.0.0.1:${info.port}`, { expectedId: 'provenant_1.0:env' });
    try {
      const p = makeProposal({ channel: 'c', chaincode: 'provenant', args: ['Counter:get', 'x'] });
      const r = await peer.execute({
        channelId: 'c',
        txId: p.txId,
        namespace: 'provenant',
        input: p.input,
        signedProposal: p.signedProposal,
        state: stateWith({}),
      });
      expect({ status: r.status, message: r.message }).toEqual({ status: 200, message: '' });
      expect(Buffer.from(r.payload).toString()).toBe('0');
    } finally {
      peer.close();
    }
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
