/** The edge config: YAML and JSON, defaults, relative paths, and errors that name the field. */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigFiles, loadConfig, validateConfig } from '../../edge-runtime/src/config.js';
import { tempDir } from '../support/edge-fixture.js';

const tmp = tempDir('provenant-config-');
afterAll(() => tmp.cleanup());

const minimal = {
  edgeId: 'edge-1',
  dataDir: './data',
  credentials: { dir: './creds' },
  policy: { id: 'p', anyOf: [{ site: 'plant-3' }] },
  ledger: { type: 'embedded', path: './ledger.db' },
  api: { token: '0123456789abcdef0123' },
};

async function fieldOf(input: unknown): Promise<string> {
  try {
    await validateConfig(input, '/etc/provenant');
  } catch (err) {
    expect((err as { code?: string }).code).toBe('PROV_ERR_CONFIG');
    return String((err as { details: { field: string } }).details.field) + ' | ' + (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('edge config', () => {
  it('fills defaults and resolves relative paths against the file', async () => {
    const c = await validateConfig(minimal, '/etc/provenant');
    expect(c.dataDir).toBe('/etc/provenant/data');
    expect(c.credentials.dir).toBe('/etc/provenant/creds');
    expect(c.ledger).toEqual({ type: 'embedded', path: '/etc/provenant/ledger.db', identity: 'edge-1' });
    expect(c.outbox).toMatchObject({ maxPending: 100000, synchronous: 'FULL', batchSize: 500 });
    expect(c.profile).toMatchObject({ intervalMs: 1000, burst: 16 });
    expect(c.api).toMatchObject({ enabled: true, host: '127.0.0.1', port: 8080 });
    expect(c.boards).toEqual([]);
    const noApi: Record<string, unknown> = { ...minimal };
    delete noApi['api'];
    expect((await validateConfig(noApi, '/etc')).api.enabled).toBe(false);
  });

  it('accepts a Fabric ledger section (deploy/fabric/config/edge.yaml) and names its fields', async () => {
    const fabric = {
      type: 'fabric',
      peerEndpoint: 'peer0.org1.example.com:7051',
      mspId: 'Org1MSP',
      certPath: 'crypto/cert.pem',
      keyPath: 'crypto/key.pem',
      channel: 'mychannel',
      chaincode: 'provenant',
    };
    const c = await validateConfig({ ...minimal, ledger: fabric }, '/etc/provenant');
    expect(c.ledger).toMatchObject({
      type: 'fabric',
      fabric: { peerEndpoint: 'peer0.org1.example.com:7051', certPath: '/etc/provenant/crypto/cert.pem' },
    });
    expect(await fieldOf({ ...minimal, ledger: { ...fabric, channel: 'Bad Channel' } })).toMatch(/^ledger\.channel/);
  });

  it('loads YAML and JSON files alike', async () => {
    const yamlPath = join(tmp.dir, 'edge.yaml');
    writeFileSync(
      yamlPath,
      `edgeId: edge-2
dataDir: data
credentials: { dir: creds }
policy: { id: p, anyOf: [ { site: plant-3 } ] }
ledger: { type: http, url: "http://127.0.0.1:7050", token: abc }
boards:
  - name: line-1
    serial: { path: /dev/ttyACM0, baudRate: 9600 }
  - ble: { address: "c8:4f:12:34:56:78" }
api: { enabled: false }
`,
    );
    const y = await loadConfig(yamlPath);
    expect(y.boards).toEqual([
      { name: 'line-1', serial: { path: '/dev/ttyACM0', baudRate: 9600 } },
      { ble: { address: 'c8:4f:12:34:56:78' } },
    ]);
    expect(y.dataDir).toBe(join(tmp.dir, 'data'));
    const jsonPath = join(tmp.dir, 'edge.json');
    writeFileSync(jsonPath, JSON.stringify(minimal));
    expect((await loadConfig(jsonPath)).edgeId).toBe('edge-1');
  });

  it('names the offending field', async () => {
    expect(await fieldOf({ ...minimal, boards: [{ serial: { path: '/dev/x', baudRate: 'fast' } }] })).toMatch(
      /^boards\[0\]\.serial\.baudRate \| boards\[0\]\.serial\.baudRate: must be integer/,
    );
    expect(await fieldOf({ ...minimal, edgeId: undefined })).toMatch(/^edgeId \| edgeId: is required/);
    expect(await fieldOf({ ...minimal, outbox: { maxPending: 0 } })).toMatch(/^outbox\.maxPending/);
    expect(await fieldOf({ ...minimal, outbox: { synchronous: 'OFF' } })).toMatch(/^outbox\.synchronous/);
    expect(await fieldOf({ ...minimal, colour: 'blue' })).toMatch(/^colour \| colour: is not a known field/);
    expect(await fieldOf({ ...minimal, boards: [{ ble: { address: 'nope' } }] })).toMatch(/^boards\[0\]\.ble\.address/);
    expect(await fieldOf({ ...minimal, api: {} })).toMatch(/^api\.token/);
    expect(await fieldOf({ ...minimal, api: { port: 99999 } })).toMatch(/^api\.port/);
    expect(await fieldOf({ ...minimal, ledger: { type: 'http', url: 'http://x' } })).toMatch(/^ledger\.token/);
  });

  it('reports unreadable and unparsable files', async () => {
    await expect(loadConfig(join(tmp.dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'PROV_ERR_CONFIG' });
    const broken = join(tmp.dir, 'broken.json');
    writeFileSync(broken, '{ nope');
    await expect(loadConfig(broken)).rejects.toThrow(/not valid JSON/);
  });

  it('resolves ledger.tokenFile of an http ledger against the file, like every other path', async () => {
    const c = await validateConfig(
      { ...minimal, ledger: { type: 'http', url: 'http://10.0.0.2:7050', tokenFile: 'ledger.token' } },
      '/etc/provenant',
    );
    expect(c.ledger).toMatchObject({ type: 'http', tokenFile: '/etc/provenant/ledger.token' });
  });

  it('fills the defaults ajv cannot fill inside oneOf (board baud rate, embedded identity)', async () => {
    const c = await validateConfig({ ...minimal, boards: [{ serial: { path: '/dev/ttyACM0' } }] }, '/etc/provenant');
    expect(c.boards[0]).toEqual({ serial: { path: '/dev/ttyACM0', baudRate: 115200 } });
  });

  it('reports every problem of a file at once, each with its field', async () => {
    const err = (await validateConfig(
      { ...minimal, edgeId: undefined, colour: 'blue', outbox: { maxPending: 0 }, ledger: { type: 'mainframe' } },
      '/etc/provenant',
    ).catch((e: unknown) => e)) as { message: string; details: { problems: { field: string; message: string }[] } };
    expect(err.message).toMatch(/^4 problems:/);
    expect(err.details.problems).toEqual(
      expect.arrayContaining([
        { field: 'edgeId', message: 'is required' },
        { field: 'colour', message: 'is not a known field' },
        expect.objectContaining({ field: 'outbox.maxPending' }),
        { field: 'ledger.type', message: 'must be one of "embedded", "fabric", "http"' },
      ]),
    );
  });

  it('the example configs in deploy/ are valid, and --check finds only what a fresh machine lacks', async () => {
    for (const example of ['deploy/edge/edge.yaml', 'deploy/fabric/config/edge.yaml']) {
      const c = await loadConfig(join(import.meta.dirname, '..', '..', example));
      expect(c.edgeId).toBe('edge-1');
      const found = checkConfigFiles(c);
      // Nothing is installed here: the credentials, keys and token files are reported, each by field.
      expect(found.errors.map((e) => e.field)).toContain('credentials.dir');
    }
    const c = await loadConfig(join(import.meta.dirname, '..', '..', 'deploy', 'edge', 'edge.yaml'));
    expect(c.ledger).toMatchObject({ type: 'http', tokenFile: join(import.meta.dirname, '..', '..', 'deploy', 'edge', 'ledger.token') });
  });
});
