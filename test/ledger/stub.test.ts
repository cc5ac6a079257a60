import { describe, expect, it } from 'vitest';
import {
  DEFAULT_IDENTITIES,
  EmbeddedStub,
  createCompositeKey,
  splitCompositeKey,
  type StateReader,
} from '../../ledger-bridge/embedded/index.js';

const rows = [
  { key: 'a', version: 65_536, value: Buffer.from('1') },
  { key: 'b', version: 65_537, value: Buffer.from('2') },
  { key: 'c', version: 131_072, value: Buffer.from('3') },
];

/** A StateReader over a fixed list (the stub's only dependency). */
const reader: StateReader = {
  get: (key) => {
    const r = rows.find((x) => x.key === key);
    return r ? { version: r.version, value: r.value } : { version: 0, value: null };
  },
  range: (start, end) => rows.filter((r) => r.key >= start && (end === '' || r.key < end)),
  privateGet: () => ({ version: 0, value: null }),
  privateRange: () => [],
  history: () => [],
};

const stub = (): EmbeddedStub =>
  new EmbeddedStub(reader, {
    txId: 'tx-1',
    channelId: 'provenant',
    timestamp: 1_700_000_000_123,
    identity: DEFAULT_IDENTITIES[1] as (typeof DEFAULT_IDENTITIES)[number],
    args: ['C:fn', 'x', 'y'],
    transient: new Map([['k', new Uint8Array([1, 2])]]),
  });

describe('EmbeddedStub (fabric-shim semantics)', () => {
  it('records reads with versions, buffers writes, and does not read its own writes', async () => {
    const s = stub();
    expect((await s.getState('a')).toString()).toBe('1');
    expect((await s.getState('zz')).length).toBe(0);
    await s.putState('a', Buffer.from('changed'));
    expect((await s.getState('a')).toString()).toBe('1');
    await s.deleteState('b');
    await s.putState('e', '');
    expect(s.simulation.reads).toEqual(
      new Map([
        ['a', 65_536],
        ['zz', 0],
      ]),
    );
    expect([...s.simulation.writes.keys()]).toEqual(['a', 'b', 'e']);
    expect(s.simulation.writes.get('b')).toBeNull();
    expect(s.simulation.writes.get('e')).toBeNull();
    await expect(s.putState('', 'x')).rejects.toThrow(/non-empty/);
    await expect(s.putState('k', 42 as unknown as string)).rejects.toThrow(TypeError);
  });

  it('iterates ranges both ways fabric-shim offers, with close(), and records them for phantom checks', async () => {
    const s = stub();
    const keys: string[] = [];
    for await (const kv of s.getStateByRange('a', 'c')) keys.push(kv.key);
    expect(keys).toEqual(['a', 'b']);
    const it = await s.getStateByRange('b', '');
    expect((await it.next()).value.key).toBe('b');
    await it.close();
    expect((await it.next()).done).toBe(true);
    for await (const kv of s.getStateByRange('', '')) {
      expect(kv.key).toBe('a');
      break;
    }
    expect(s.simulation.ranges.map((r) => [r.start, r.end, r.results.length])).toEqual([
      ['a', 'c', 2],
      ['b', '', 2],
      ['\u0001', '', 3],
    ]);
    await expect(s.getStateByRange('\u0000x', 'y')).rejects.toThrow(/null character/);
  });

  it('builds and splits composite keys exactly like Fabric, and rejects bad parts', () => {
    const k = createCompositeKey('reading', ['dev-1', '42']);
    expect(k).toBe('\u0000reading\u0000dev-1\u000042\u0000');
    expect(splitCompositeKey(k)).toEqual({ objectType: 'reading', attributes: ['dev-1', '42'] });
    expect(splitCompositeKey('simple')).toEqual({ objectType: null, attributes: [] });
    expect(splitCompositeKey(createCompositeKey('t', []))).toEqual({ objectType: 't', attributes: [] });
    expect(() => createCompositeKey('', ['a'])).toThrow(/non-zero length/);
    expect(() => createCompositeKey('t', ['a\u0000b'])).toThrow(/U\+0000/);
    expect(() => createCompositeKey('t', [''])).toThrow(/non-zero length/);
  });

  it('exposes the proposal: args, tx id, channel, timestamps, creator, transient, event (last one wins)', () => {
    const s = stub();
    expect(s.getFunctionAndParameters()).toEqual({ fcn: 'C:fn', params: ['x', 'y'] });
    expect(s.getArgs()).toEqual(['C:fn', 'x', 'y']);
    expect(s.getTxID()).toBe('tx-1');
    expect(s.getChannelID()).toBe('provenant');
    const ts = s.getTxTimestamp();
    expect(ts.seconds.toNumber()).toBe(1_700_000_000);
    expect(ts.nanos).toBe(123_000_000);
    expect(s.getDateTimestamp().getTime()).toBe(1_700_000_000_123);
    expect(s.getCreator().mspid).toBe('EdgeMSP');
    expect(Buffer.from(s.getTransient().get('k') as Uint8Array)).toEqual(Buffer.from([1, 2]));
    s.setEvent('first', Buffer.from('1'));
    s.setEvent('second', Buffer.from('2'));
    expect(s.simulation.event?.name).toBe('second');
    expect(() => s.setEvent('', Buffer.from(''))).toThrow(/non-empty/);
  });

  it('refuses rich queries like a LevelDB peer', async () => {
    await expect(stub().getQueryResult()).rejects.toThrow(/CouchDB/);
  });
});
