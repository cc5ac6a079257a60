/**
 * The Fabric benchmark's workload, through the real contracts: an issuer of its own (configure),
 * D enrolled devices (register with K_IoT as transient data), one partial signature per device
 * stored with a first small batch (untimed), then pre-signed readings cut into batches.
 * Everything is prepared before the clock starts, so the figures are ledger figures.
 */
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { ready } from '../../shared/crypto/bbs.js';
import { complete } from '../../shared/crypto/complete.js';
import { partialToJson, type PartialSignatureJson } from '../../shared/crypto/credential.js';
import { enrollDevice, setup, signPartial, type Enrollment } from '../../shared/crypto/outsourced.js';
import type { Policy } from '../../shared/crypto/policy.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { codeOf, ProvenantError } from '../../shared/errors.js';
import { packedBatchArg, packReadingBatch } from '../../shared/encoding/batch.js';
import { toSubmission, type ReadingSubmission } from '../../shared/records.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';

const POLICY: Policy = { id: 'bench-plant', anyOf: [{ site: 'bench', type: 'temperature' }] };
const EDGE_ID = 'bench-edge';

/** Prepared devices and their partials. */
export interface Workload {
  readonly devices: readonly { enrollment: Enrollment; partial: PartialSignatureJson; nextSeq: number }[];
  readonly runTag: string;
}

/** Configures the chaincode with a fresh issuer and enrolls `count` devices. */
export async function prepare(client: LedgerClient, count: number, log: (m: string) => void): Promise<Workload> {
  await ready();
  const issuer = setup();
  const config = JSON.stringify({ issuerPk: Buffer.from(issuer.pk).toString('hex'), schema: issuer.schema, policies: [POLICY] });
  try {
    await client.submit({ contract: CONTRACTS.deviceRegistration, fn: 'configure', args: [config] });
  } catch (e) {
    if (codeOf(e) === 'PROV_ERR_ALREADY_CONFIGURED') {
      throw new ProvenantError(
        'PROV_ERR_CONFIG',
        'the chaincode on this channel is already configured by an attribute authority: the benchmark needs a chaincode of its own; pass --deploy (it deploys fresh ones) or --chaincode NAME of a Provenant chaincode deployed for the benchmark and not configured yet (docs/fabric.md §10)',
        { field: 'chaincode' },
      );
    }
    throw e;
  }
  // The edge registry: this client's identity (the authority's) also acts as EDGE_ID.
  const me = JSON.parse(
    new TextDecoder().decode(await client.evaluate({ contract: CONTRACTS.deviceRegistration, fn: 'whoami', args: [] })),
  ) as { mspId: string; id: string };
  await client.submit({
    contract: CONTRACTS.deviceRegistration,
    fn: 'registerEdge',
    args: [JSON.stringify({ edgeId: EDGE_ID, mspId: me.mspId, id: me.id })],
  });
  const runTag = Date.now().toString(36);
  log(`enrolling ${count} devices`);
  const enrollments = Array.from({ length: count }, (_, i) =>
    enrollDevice(issuer, { deviceId: `b${runTag}-${i}`, site: 'bench', line: 'L1', type: 'temperature', owner: 'bench', fw: '1.0.0' }),
  );
  await Promise.all(
    enrollments.map((e) =>
      client.submit({
        contract: CONTRACTS.deviceRegistration,
        fn: 'register',
        args: [JSON.stringify({ version: 1, ...e.registration, gatewayId: EDGE_ID })],
        transient: { ...ledgerKeys(sha256, e.device.kIoT) },
      }),
    ),
  );
  const devices = enrollments.map((enrollment) => ({
    enrollment,
    partial: partialToJson(signPartial(enrollment.credential, { epoch: 1, edgeId: EDGE_ID, policy: POLICY })),
    nextSeq: 1,
  }));
  log('storing one partial signature per device (first reading of each)');
  await Promise.all(devices.map((d) => client.submit(batchTx([reading(d)], [d.partial]))));
  return { devices, runTag };
}

/** The next signed reading of a device. */
export function reading(d: Workload['devices'][number]): ReadingSubmission {
  const seq = d.nextSeq++;
  const t = 1_700_000_000_000 + seq * 1000;
  const r = {
    deviceId: d.enrollment.device.deviceId,
    seq,
    t,
    epoch: d.partial.epoch,
    partialDigest: Buffer.from(d.partial.partialDigest, 'hex'),
    batteryMv: 3300,
    channels: [{ id: 0, scale: -2, value: 2000 + (seq % 500) }],
    bootCount: 1,
    uptimeMs: seq * 1000,
  };
  return toSubmission({ reading: r, tag: complete(sha256, d.enrollment.device.kIoT, r) }, EDGE_ID, t + 5, [
    `device:${r.deviceId}`,
    `edge:${EDGE_ID}`,
    'bridge:bench',
  ]);
}

/** The recordBatch proposal for readings (and partials): the packed batch, as the edge sends it. */
export function batchTx(readings: readonly ReadingSubmission[], partials: readonly PartialSignatureJson[] = []) {
  return { contract: CONTRACTS.dataProvenance, fn: 'recordBatch', args: [packedBatchArg(packReadingBatch({ readings, partials }))] };
}

/**
 * `total` readings cut into batches of `size`, device-affine as the edge's forwarder makes them:
 * the devices are split into `lanes` groups, batch i holds readings of group i mod lanes only
 * (round-robin over its devices), so batches i and j of different groups never touch the same
 * replay window and a lane's batches go one after the other.
 */
export function batches(w: Workload, total: number, size: number, lanes: number): ReadingSubmission[][] {
  const groups: Workload['devices'][number][][] = Array.from({ length: Math.min(lanes, w.devices.length) }, () => []);
  w.devices.forEach((d, i) => groups[i % groups.length]?.push(d));
  const out: ReadingSubmission[][] = [];
  for (let made = 0, i = 0; made < total; i++) {
    const group = groups[i % groups.length] as Workload['devices'][number][];
    const n = Math.min(size, total - made);
    out.push(Array.from({ length: n }, (_, k) => reading(group[k % group.length] as Workload['devices'][number])));
    made += n;
  }
  return out;
}
