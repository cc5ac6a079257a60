/**
 * startEdge from a config: a BLE board whose radio stack is unavailable is reported and does not
 * stop the serial board, which runs end to end (MockBinding-backed board double → edge → ledger).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../edge-runtime/src/config.js';
import { startEdge } from '../../edge-runtime/src/from-config.js';
import { silentLog } from '../../edge-runtime/src/log.js';
import { SimBinding, startSimBoard } from '../../hardware/sim/index.js';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { ledgerFixture, tempDir } from '../support/edge-fixture.js';
import { testEdgeConfig, writeCredentials } from '../support/edge-config.js';
import { waitFor } from '../support/wait.js';

const tmp = tempDir('provenant-from-config-');
afterAll(() => tmp.cleanup());

describe('startEdge(config)', () => {
  it('runs the serial board while the BLE board reports "BLE unavailable"', async () => {
    await ensureFirmwareBuilt();
    const fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 1);
    const d = fx.devices[0]!;
    const credDir = writeCredentials(join(tmp.dir, 'creds'), [d]);
    writeFileSync(join(credDir, 'broken.credential.json'), '{"version":1}');
    const sim = await startSimBoard({
      provisioning: { deviceId: d.deviceId, key: Buffer.from(d.kIoT).toString('base64'), intervalMs: 200 },
      link: 'mock',
    });
    const config = await validateConfig(
      testEdgeConfig(
        { dataDir: join(tmp.dir, 'data'), credDir, issuerPk: fx.issuer.pk },
        {
          boards: [{ ble: { address: 'c8:4f:12:34:56:78' } }, { serial: { path: sim.path, baudRate: 115200 } }],
          ledger: { type: 'embedded', path: join(tmp.dir, 'unused.db') },
          api: { enabled: true, port: 0, token: '0123456789abcdef0123' },
        },
      ),
      tmp.dir,
    );
    const edge = await startEdge(config, { log: silentLog, binding: SimBinding as never, ledger: fx.edgeClient });
    sim.reboot();
    const sessions = edge.runtime.allSessions();
    expect(sessions.map((s) => s.link.id)).toEqual(['ble:c8:4f:12:34:56:78', `serial:${sim.path}`]);
    await waitFor('5 readings committed from the serial board', () => edge.runtime.outbox.counts().committed >= 5, {
      timeoutMs: 60_000,
      detail: () => `outbox ${JSON.stringify(edge.runtime.outbox.counts())}`,
    });
    expect(edge.runtime.outbox.counts().committed).toBeGreaterThanOrEqual(5);
    expect(sessions[0]?.link.state).not.toBe('open'); // 'failed' here: noble's native part is not built
    const health = (await (await fetch(`${edge.url}/health`)).json()) as { status: string; links: { open: number; total: number } };
    expect(health).toMatchObject({ status: 'degraded', links: { open: 1, total: 2 } });
    await edge.stop();
    await sim.stop();
    await fx.close();
  });
});
