/** Many simulated boards in one process (what the demo and end-to-end tests do): cheap and independent. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFirmwareBuilt } from '../../firmware/build.js';
import { rig } from './rig.js';

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

describe('many simulated boards', () => {
  it('20 boards on SimBinding ports each send valid readings under their own key and id', async () => {
    const rigs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const key = new Uint8Array(32).fill(i + 1);
        return rig('mock', { key, provisioning: { deviceId: `many-${i}`, key: Buffer.from(key).toString('base64'), intervalMs: 100 } });
      }),
    );
    try {
      await Promise.all(rigs.map((r) => r.edge.waitFor(() => r.edge.of('READING').length >= 3, 20_000, 'readings')));
      rigs.forEach((r, i) => {
        const rs = r.edge.of('READING');
        expect(rs.every((m) => m.reading.deviceId === `many-${i}` && m.tagValid)).toBe(true);
        expect(r.b.stats.uncaught).toEqual([]);
      });
      // Each board is one vm context in this process: no child process was needed.
      expect(new Set(rigs.map((r) => r.b.path)).size).toBe(20);
    } finally {
      await Promise.all(rigs.map((r) => r.close()));
    }
  });
});
