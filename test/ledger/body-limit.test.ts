/**
 * Issue 11, attack 9 (last part): the ledger's HTTP server took 64 MiB bodies from any token
 * holder. Its limit is now the largest valid request — a recordBatch of the largest valid batch
 * (shared/encoding/batch.ts MAX_PACKED_BATCH_BYTES, in base64, in its JSON envelope) — and an
 * over-limit body is PROV_ERR_TOO_LARGE (413) naming the limit, whether it declares its length or
 * comes chunked, while what the ledger accepted stays. Real HTTP (a listening server), the real
 * contracts on an embedded ledger file.
 */
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import { HttpLedgerClient } from '../../ledger-bridge/embedded/http/client.js';
import { LEDGER_BODY_LIMIT } from '../../ledger-bridge/embedded/http/server.js';
import { ready } from '../../shared/crypto/bbs.js';
import { MAX_ATTRIBUTE_BYTES, MAX_ATTRIBUTES, MAX_PARTIAL_JSON_BYTES, partialToJson } from '../../shared/crypto/credential.js';
import { enrollDevice, setup, signPartial } from '../../shared/crypto/outsourced.js';
import { MAX_ATTRIBUTE_NAME_LENGTH, MAX_POLICY_ID_LENGTH } from '../../shared/crypto/policy.js';
import { MAX_IDENTIFIER_LENGTH } from '../../shared/crypto/presentation.js';
import {
  decodePackedBatch,
  encodePackedBatch,
  MAX_BATCH_ARGUMENT_CHARS,
  MAX_PACKED_BATCH_BYTES,
  MAX_ROUTES,
} from '../../shared/encoding/batch.js';
import { MAX_READING_BYTES } from '../../shared/encoding/reading.js';
import { MAX_BATCH_PARTIALS, MAX_BATCH_READINGS, MAX_HOP_LENGTH, MAX_PATH_HOPS } from '../../shared/records.js';
import { batchArg, json, partialFor, readingOf, signed, World } from '../contracts/fixture.js';
import { listenLedger } from '../support/services.js';

const EDGE = 'edge-token-0123456789abcdef0123';
const AUDITOR = 'auditor-token-0123456789abcdef01';

/** One raw POST: a Buffer body with its length, or chunks without one (chunked encoding). */
function post(
  url: string,
  token: string | undefined,
  body: Buffer | Buffer[],
): Promise<{ status: number; body: { code?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const chunked = Array.isArray(body);
    const req = request(
      `${url}/v1/submit`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(chunked ? {} : { 'content-length': String(body.length) }),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString() || '{}') as never }));
      },
    );
    // The server may answer and close before the whole body is written: that is the point.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    if (chunked) {
      for (const c of body) req.write(c);
      req.end();
    } else req.end(body);
  });
}

describe('issue 11 attack 9: the ledger takes no body larger than the largest valid batch', () => {
  let w: World;
  let app: FastifyInstance;
  let url: string;
  let edge: HttpLedgerClient;
  let auditor: HttpLedgerClient;
  let good: ReturnType<typeof signed>;
  let mk: (seq: number) => ReturnType<typeof signed>;
  let partial: ReturnType<typeof partialFor>;

  beforeAll(async () => {
    w = await World.open();
    ({ app, url } = await listenLedger(w.ledger, { [EDGE]: 'edge-1', [AUDITOR]: 'auditor' }));
    edge = new HttpLedgerClient({ url, token: EDGE });
    auditor = new HttpLedgerClient({ url, token: AUDITOR });
    const { enrollment } = await w.enroll('dev-big');
    partial = partialFor(enrollment.credential, 1);
    mk = (seq) => signed(enrollment.device.kIoT, readingOf('dev-big', seq, partial));
    good = mk(1);
    const r = await edge.submit({ contract: CONTRACTS.dataProvenance, fn: 'recordBatch', args: [batchArg([good], [partial], 'packed')] });
    expect(json(r.result)).toMatchObject({ accepted: 1 });
  });
  afterAll(async () => {
    await edge?.close();
    await auditor?.close();
    await app?.close();
    await w?.close();
  });

  it('the limit is derived from the largest valid batch, far below the old 64 MiB', () => {
    expect(MAX_BATCH_ARGUMENT_CHARS).toBe(4 * Math.ceil(MAX_PACKED_BATCH_BYTES / 3));
    expect(LEDGER_BODY_LIMIT).toBeGreaterThan(MAX_BATCH_ARGUMENT_CHARS);
    expect(LEDGER_BODY_LIMIT - MAX_BATCH_ARGUMENT_CHARS).toBeLessThan(400); // the JSON envelope
    expect(LEDGER_BODY_LIMIT).toBeLessThan(16 * 1024 * 1024);
  });

  it('an over-limit body is 413 PROV_ERR_TOO_LARGE naming the limit (declared or chunked); a body at the limit is read and judged; accepted data stays', async () => {
    const head = (await auditor.head()).height;
    const envelope = (arg: string): Buffer => Buffer.from(JSON.stringify({ contract: 'DataProvenance', fn: 'recordBatch', args: [arg] }));
    // One byte over, with its length declared: refused before the body is read.
    const over = envelope('A'.repeat(LEDGER_BODY_LIMIT));
    expect(over.length).toBeGreaterThan(LEDGER_BODY_LIMIT);
    const declared = await post(url, EDGE, over);
    expect(declared.status).toBe(413);
    expect(declared.body.code).toBe('PROV_ERR_TOO_LARGE');
    expect(declared.body.message).toContain(`exceeds the ledger's limit of ${LEDGER_BODY_LIMIT} bytes`);
    expect(declared.body.message).toContain(`largest valid batch: ${MAX_PACKED_BATCH_BYTES} bytes packed`);
    // The same without a length (chunked): cut off at the limit.
    const chunks: Buffer[] = [];
    for (let at = 0; at < over.length; at += 1 << 20) chunks.push(over.subarray(at, at + (1 << 20)));
    const streamed = await post(url, EDGE, chunks);
    expect(streamed.status, JSON.stringify(streamed.body)).toBe(413);
    expect(streamed.body.code).toBe('PROV_ERR_TOO_LARGE');
    expect(streamed.body.message).toContain(`limit of ${LEDGER_BODY_LIMIT} bytes`);
    // Without a token, the size does not matter: 401 first.
    expect((await post(url, undefined, over)).status).toBe(401);
    // A body of the largest valid batch's size is read and judged (here: not a packed frame).
    const atLimit = envelope('A'.repeat(MAX_BATCH_ARGUMENT_CHARS));
    expect(atLimit.length).toBeLessThanOrEqual(LEDGER_BODY_LIMIT);
    const judged = await post(url, EDGE, atLimit);
    expect(judged.status, JSON.stringify(judged.body)).toBe(400);
    expect(judged.body.message).toMatch(/PROV_ERR_BAD_INPUT.*packed batch/);
    // Nothing was committed by the refused bodies; the accepted reading is intact and the edge goes on.
    expect((await auditor.head()).height).toBe(head);
    const verdict = json(
      await auditor.evaluate({ contract: CONTRACTS.dataProvenance, fn: 'verify', args: ['dev-big', 'seq:1', good.canonical, good.tag] }),
    );
    expect(verdict).toMatchObject({ verdict: 'TRUE' });
    const next = await edge.submit({ contract: CONTRACTS.dataProvenance, fn: 'recordBatch', args: [batchArg([mk(2)], [], 'packed')] });
    expect(json(next.result)).toMatchObject({ accepted: 1 });
  });
});

describe('the largest valid batch: the figure the limit derives from', () => {
  it('a partial at the extremes the credential limits allow fits MAX_PARTIAL_JSON_BYTES (real BBS)', async () => {
    await ready();
    const schema = [
      'deviceId',
      ...Array.from({ length: MAX_ATTRIBUTES - 1 }, (_, i) => `a${String(i).padStart(MAX_ATTRIBUTE_NAME_LENGTH - 2, '0')}`),
    ];
    const issuer = setup({ schema, keyMaterial: new Uint8Array(32).fill(3) });
    // Every value made of '"' (escaped to 2 bytes in JSON), all of them together at MAX_ATTRIBUTE_BYTES.
    const deviceId = '"'.repeat(MAX_IDENTIFIER_LENGTH);
    const per = Math.floor((MAX_ATTRIBUTE_BYTES - deviceId.length) / (schema.length - 1));
    const attrs = Object.fromEntries(schema.map((n) => [n, n === 'deviceId' ? deviceId : '"'.repeat(per)]));
    const { credential } = enrollDevice(issuer, attrs);
    const edgeId = '\\'.repeat(MAX_IDENTIFIER_LENGTH);
    const policyName = 'p'.repeat(MAX_POLICY_ID_LENGTH);
    const all = { id: policyName, anyOf: [Object.fromEntries(schema.slice(1).map((n) => [n, attrs[n] as string]))] };
    const one = { id: policyName, anyOf: [{ [schema[1] as string]: attrs[schema[1] as string] as string }] };
    for (const policy of [all, one]) {
      const p = partialToJson(signPartial(credential, { epoch: 0xffffffff, edgeId, policy }));
      const bytes = Buffer.byteLength(JSON.stringify(p));
      expect(bytes).toBeLessThanOrEqual(MAX_PARTIAL_JSON_BYTES);
      expect(bytes, 'the bound is not loose by more than one extreme (all disclosed vs. all hidden)').toBeGreaterThan(
        MAX_PARTIAL_JSON_BYTES / 3,
      );
    }
    // One byte more than the credential limits allow is refused at enrollment.
    expect(() => enrollDevice(issuer, { ...attrs, [schema[1] as string]: '"'.repeat(per + MAX_ATTRIBUTE_BYTES) })).toThrow(
      /256 characters|at most 1024/,
    );
    expect(() => enrollDevice(issuer, { ...attrs, [schema[1] as string]: 'a\u0000b' })).toThrow(/control character/);
    expect(() =>
      enrollDevice(issuer, {
        ...attrs,
        [schema[1] as string]: 'x'.repeat(200),
        [schema[2] as string]: 'y'.repeat(200),
        [schema[3] as string]: 'z'.repeat(200),
        [schema[4] as string]: 'w'.repeat(200),
        [schema[5] as string]: 'v'.repeat(200),
      }),
    ).toThrow(/at most 1024/);
  });

  it('a frame with every part at its maximum is at most MAX_PACKED_BATCH_BYTES and decodes; a longer partial is refused', () => {
    const routes = Array.from({ length: MAX_ROUTES }, (_, r) => ({
      edgeId: `e${r}`.padEnd(MAX_IDENTIFIER_LENGTH, 'x'),
      path: Array.from({ length: MAX_PATH_HOPS }, (_, h) => `${r}:${h}`.padEnd(MAX_HOP_LENGTH, 'h')),
    }));
    const canonical = new Uint8Array(MAX_READING_BYTES).fill(1);
    const tag = new Uint8Array(32).fill(2);
    const readings = Array.from({ length: MAX_BATCH_READINGS }, (_, i) => ({
      canonical,
      tag,
      receivedAt: Number.MAX_SAFE_INTEGER,
      ...(routes[i % MAX_ROUTES] as (typeof routes)[0]),
    }));
    const fat = {
      deviceId: 'd',
      epoch: 1,
      edgeId: 'e',
      policyId: 'p',
      disclosedIndexes: [0],
      disclosed: {},
      proof: '',
      ph: '',
      partialDigest: '',
    };
    const pad = MAX_PARTIAL_JSON_BYTES - Buffer.byteLength(JSON.stringify(fat));
    const partial = { ...fat, proof: 'a'.repeat(pad) };
    expect(Buffer.byteLength(JSON.stringify(partial))).toBe(MAX_PARTIAL_JSON_BYTES);
    const frame = encodePackedBatch(
      readings,
      Array.from({ length: MAX_BATCH_PARTIALS }, () => partial),
    );
    expect(frame.length).toBeLessThanOrEqual(MAX_PACKED_BATCH_BYTES);
    expect(frame.length).toBeGreaterThan(MAX_PACKED_BATCH_BYTES - 64 * MAX_BATCH_READINGS); // only the receivedAt digits and route indexes are slack
    expect(decodePackedBatch(frame).count).toBe(MAX_BATCH_READINGS);
    const longer = encodePackedBatch([readings[0] as (typeof readings)[0]], [{ ...partial, proof: 'a'.repeat(pad + 1) }]);
    expect(() => decodePackedBatch(longer)).toThrow(/partials\[0\] is \d+ bytes, longer than any valid partial/);
  });
});
