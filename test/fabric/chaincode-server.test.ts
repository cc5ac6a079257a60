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
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type Winston from 'winston';
import {
  dropDisabledLogLevelsEarly,
  installFastStringParameters,
  startChaincodeServer,
} from '../../ledger-bridge/fabric/chaincode-server.js';
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

describe('per-call overhead of fabric-shim, cut without changing what a call gets', () => {
  const require = createRequire(import.meta.url);
  type Handle = (fn: { parameters?: unknown[] }, parameters: Buffer[], prefix?: string) => unknown[];
  const DataMarshall = require('fabric-shim/lib/contract-spi/datamarshall.js') as new (
    name: string,
    serializers: unknown,
    schemas: unknown,
  ) => { handleParameters: Handle };
  const { JSONSerializer } = require('fabric-contract-api') as { JSONSerializer: new () => unknown };

  it('string parameters arrive as the same UTF-8 strings; a wrong count and other types keep fabric-shim’s path and errors', () => {
    installFastStringParameters();
    const m = new DataMarshall('jsonSerializer', { jsonSerializer: JSONSerializer }, {});
    const str = { name: 'a', description: '', schema: { type: 'string' } };
    const text = 'AAEC/w==' + 'é'.repeat(3) + '{"x":1}';
    expect(m.handleParameters({ parameters: [str, str] }, [Buffer.from(text), Buffer.from('')])).toEqual([text, '']);
    expect(() => m.handleParameters({ parameters: [str] }, [Buffer.from('a'), Buffer.from('b')])).toThrow(
      /Expected 1 parameters, but 2 have been supplied/,
    );
    // a number parameter is still converted and validated by fabric-shim
    const num = { name: 'n', description: '', schema: { type: 'number' } };
    expect(m.handleParameters({ parameters: [str, num] }, [Buffer.from('x'), Buffer.from('42')])).toEqual(['x', 42]);
    expect(() => m.handleParameters({ parameters: [num] }, [Buffer.from('forty')])).toThrow(/could not convert data to number/);
    // a string with a constraint is validated by fabric-shim (ajv)
    const short = { name: 's', description: '', schema: { type: 'string', maxLength: 2 } };
    expect(() => m.handleParameters({ parameters: [short] }, [Buffer.from('abc')])).toThrow(/Unable to validate parameter/);
  });

  it('a message below every transport’s level never reaches the format pipeline; one at the level is still written', () => {
    dropDisabledLogLevelsEarly();
    const winston = createRequire(require.resolve('fabric-shim'))('winston') as typeof Winston;
    const formatted: string[] = [];
    const written: string[] = [];
    const sink = new winston.transports.Stream({
      stream: new Writable({
        objectMode: true,
        write: (info: { message: string }, _enc, cb) => {
          written.push(info.message);
          cb();
        },
      }),
    });
    const logger = winston.createLogger({
      level: 'warn',
      format: winston.format((info) => {
        formatted.push(String(info.message));
        return info;
      })(),
      transports: [sink],
    });
    logger.debug('quiet');
    logger.info('quiet too');
    logger.warn('loud');
    logger.level = 'debug';
    logger.debug('now loud');
    expect(formatted).toEqual(['loud', 'now loud']);
    expect(written).toEqual(['loud', 'now loud']);
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
