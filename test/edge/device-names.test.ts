/**
 * A device's board name on the edge's `/devices` (the configured `boards[].name` of the link its
 * board said HELLO on) is kept in the outbox, so it shows while the board is away: between
 * sessions and after the edge restarts, before the board is back. Real pieces: the SQLite outbox,
 * the embedded ledger, the HTTP API through fastify.inject; the board is the scripted stand-in on
 * an in-memory link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { buildApi } from '../../edge-runtime/src/api/server.js';
import type { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { ledgerFixture, MemoryLink, ScriptedBoard, startFixtureEdge, tempDir, type LedgerFixture } from '../support/edge-fixture.js';

const TOKEN = 'test-token-0123456789abcdef';
let fx: LedgerFixture;
const tmp = tempDir();

beforeAll(async () => {
  fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 3);
});
afterAll(async () => {
  await fx.close();
  tmp.cleanup();
});

/** /devices as the API answers it: deviceId → { name, link }. */
async function devices(rt: EdgeRuntime): Promise<Record<string, { name: string | null; link: string | null }>> {
  const app = await buildApi(rt, { token: TOKEN });
  try {
    const res = await app.inject({ method: 'GET', url: '/devices', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    const out: Record<string, { name: string | null; link: string | null }> = {};
    for (const d of res.json() as { deviceId: string; name: string | null; link: string | null }[])
      out[d.deviceId] = { name: d.name, link: d.link };
    return out;
  } finally {
    await app.close();
  }
}

describe('device names on /devices while the board is away', () => {
  it('keeps the name between sessions and across an edge restart; a board seen on another named link takes that name', async () => {
    const rt1 = await startFixtureEdge(fx, tmp.dir, 'names');
    const link = new MemoryLink('line-1');
    await rt1.attach(link, { name: 'line-1-temp' });
    const board = new ScriptedBoard(link, fx.devices[0]!);
    board.hello();
    await board.until(() => board.partials > 0);
    expect((await devices(rt1))['dev-0']).toEqual({ name: 'line-1-temp', link: 'memory:line-1' });
    // The board goes away: its name stays.
    board.detach();
    await link.close();
    expect((await devices(rt1))['dev-0']).toEqual({ name: 'line-1-temp', link: 'memory:line-1' });
    await rt1.stop();

    // The edge restarts; the board has not said HELLO yet (away): /devices names it all the same.
    const rt2 = await startFixtureEdge(fx, tmp.dir, 'names');
    await rt2.attach(new MemoryLink('line-1'), { name: 'line-1-temp' });
    const after = await devices(rt2);
    expect(after['dev-0']).toEqual({ name: 'line-1-temp', link: 'memory:line-1' });
    // A device never seen has no name (nothing made up).
    expect(after['dev-1']).toEqual({ name: null, link: null });

    // The board comes back on another named link: the new name is kept from then on.
    const link2 = new MemoryLink('line-2');
    await rt2.attach(link2, { name: 'line-2-temp' });
    const moved = new ScriptedBoard(link2, fx.devices[0]!, 100);
    moved.hello();
    await moved.until(() => moved.partials > 0);
    expect((await devices(rt2))['dev-0']).toEqual({ name: 'line-2-temp', link: 'memory:line-2' });
    moved.detach();
    await rt2.stop();
    const rt3 = await startFixtureEdge(fx, tmp.dir, 'names');
    expect((await devices(rt3))['dev-0']).toEqual({ name: 'line-2-temp', link: 'memory:line-2' });
    await rt3.stop();
  });
});
