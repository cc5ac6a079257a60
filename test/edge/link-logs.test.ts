/**
 * Edge logs for board links (issue 10): one WARN when a link goes down (or is not there at start),
 * retries at debug level while it stays down, one INFO when it comes back; no key twice in a line
 * of `provenant edge`'s pino output.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SerialPortMock } from 'serialport';
import { SerialLink } from '../../edge-runtime/src/links/serial-link.js';
import type { Log } from '../../edge-runtime/src/log.js';
import { EdgeRuntime } from '../../edge-runtime/src/runtime.js';
import { CredentialStore } from '../../edge-runtime/src/session/credentials.js';
import { ledgerFixture, tempDir, TEST_POLICY } from '../support/edge-fixture.js';

const MockBinding = SerialPortMock.binding;
const tmp = tempDir('provenant-linklogs-');
afterAll(() => tmp.cleanup());

const until = async (p: () => boolean, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!p()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${p.toString()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('board link logs', () => {
  it('one WARN for a board not there, none per retry, one INFO when it opens; every key once per line', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    // As `provenant edge` makes it (cli/commands/edge.ts): edgeId in every line's base.
    const log = pino({ level: 'info', base: { edgeId: 'edge-1' } }, sink) as unknown as Log;
    const fx = await ledgerFixture(join(tmp.dir, 'ledger.db'), 1);
    const rt = await EdgeRuntime.start({
      edgeId: 'edge-1',
      outboxPath: join(tmp.dir, 'outbox.db'),
      ledger: fx.edgeClient,
      credentials: new CredentialStore(fx.issuer.pk),
      policy: TEST_POLICY,
      profile: { intervalMs: 100 },
      log,
    });
    try {
      MockBinding.reset();
      const link = new SerialLink({
        path: '/dev/mock-late',
        baudRate: 115200,
        binding: MockBinding,
        reconnectInitialMs: 20,
        reconnectMaxMs: 40,
        log,
      });
      const states: string[] = [];
      link.onState((s) => states.push(s));
      await rt.attach(link);
      await until(() => states.filter((s) => s === 'reconnecting').length >= 8); // four failed retries at least
      MockBinding.createPort('/dev/mock-late');
      await until(() => link.state === 'open');
      await link.close();
    } finally {
      await rt.stop();
      await fx.close();
    }
    const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; link?: string });
    const about = parsed.filter((l) => l.link === 'serial:/dev/mock-late');
    expect(about.map((l) => [l.level, l.msg])).toEqual([
      [40, 'board link not available; retrying'],
      [30, 'board link open'],
      [30, 'board link closed'],
    ]);
    for (const l of lines) {
      const keys = [...l.matchAll(/"([A-Za-z]+)":/g)].map((m) => m[1]);
      expect(new Set(keys).size, l).toBe(keys.length);
    }
    expect(parsed.some((l) => l.msg === 'edge runtime started')).toBe(true);
  });
});
