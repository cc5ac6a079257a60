/**
 * The benchmark's fleet: the authority configures the ledger, enrolls and registers N devices
 * through the real DeviceRegistration contract (K_tag and K_chal deposited via transient data),
 * the edge signs one partial per device for the epoch, and the devices' signed readings are
 * generated ahead of time (HMAC-SHA256 under each K_tag, exactly what the boards compute) and packed as
 * the edge packs them (shared/encoding/batch.ts), so the timed phases measure the ledger, not
 * the load generator.
 *
 * Batches are device-affine, as the edge's forwarder makes them: the devices are split into
 * groups, a batch holds readings of one group only, and a group has one batch in flight at a
 * time, so concurrent batches never touch the same replay-window key.
 */
import { createHmac } from 'node:crypto';
import { CONTRACTS } from '../../ledger-bridge/client.js';
import type { EmbeddedLedger } from '../../ledger-bridge/embedded/index.js';
import { ready } from '../../shared/crypto/bbs.js';
import { partialToJson, type PartialSignatureJson } from '../../shared/crypto/credential.js';
import { enrollDevice, setup, signPartial } from '../../shared/crypto/outsourced.js';
import type { Policy } from '../../shared/crypto/policy.js';
import { encodePackedBatch, type PackableReading } from '../../shared/encoding/batch.js';
import { encodeReading } from '../../shared/encoding/reading.js';
import { toHex } from '../../shared/encoding/hex.js';
import type { Reading } from '../../shared/types.js';
import { DOMAIN_READING, ledgerKeys } from '../../shared/crypto/domains.js';
import { sha256 } from '../../shared/crypto/sha256.js';

/** The policy every benchmark device satisfies. */
export const POLICY: Policy = { id: 'bench-temp', anyOf: [{ site: 'plant-3', type: 'temperature' }] };
const EDGE_ID = 'edge-1';
const EPOCH = 1;

/** One enrolled device with its key and next sequence number. */
export interface Device {
  readonly id: string;
  /** K_tag, the reading subkey of the device's K_IoT (what the board tags with). */
  readonly kTag: Uint8Array;
  readonly partial: PartialSignatureJson;
  seq: number;
}

/** The enrolled fleet and a generator of batch arguments. */
export class Fleet {
  private constructor(readonly devices: Device[]) {}

  /** Configures the ledger and enrolls `n` devices; `progress` gets stderr lines. */
  static async enroll(ledger: EmbeddedLedger, n: number, progress: (m: string) => void): Promise<Fleet> {
    await ready();
    const issuer = setup({ keyMaterial: new Uint8Array(32).fill(42) });
    await ledger.submit('aa', {
      contract: CONTRACTS.deviceRegistration,
      fn: 'configure',
      args: [JSON.stringify({ issuerPk: toHex(issuer.pk), schema: issuer.schema, policies: [POLICY] })],
    });
    // The edge registry: identity edge-1 acts as EDGE_ID.
    const edge = ledger.identities.find((i) => i.name === 'edge-1');
    await ledger.submit('aa', {
      contract: CONTRACTS.deviceRegistration,
      fn: 'registerEdge',
      args: [JSON.stringify({ edgeId: EDGE_ID, mspId: edge?.mspId, id: edge?.id })],
    });
    const devices: Device[] = [];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const id = `bench-${String(i).padStart(3, '0')}`;
      const e = enrollDevice(issuer, { deviceId: id, site: 'plant-3', line: 'L1', type: 'temperature', owner: 'acme', fw: '1.0.0' });
      pending.push(
        ledger.submit('aa', {
          contract: CONTRACTS.deviceRegistration,
          fn: 'register',
          args: [JSON.stringify({ version: 1, ...e.registration, gatewayId: EDGE_ID })],
          transient: { ...ledgerKeys(sha256, e.device.kIoT) },
        }),
      );
      const partial = partialToJson(signPartial(e.credential, { epoch: EPOCH, edgeId: EDGE_ID, policy: POLICY }));
      devices.push({ id, kTag: ledgerKeys(sha256, e.device.kIoT).kTag, partial, seq: 1 });
    }
    await Promise.all(pending);
    progress(`enrolled ${n} devices (registration + K_IoT deposit through DeviceRegistration), ${n} partial signatures`);
    const fleet = new Fleet(devices);
    // One batch carries every partial once (BBS ProofVerify, cached on the ledger by digest).
    const r = await ledger.submit('edge-1', {
      contract: CONTRACTS.dataProvenance,
      fn: 'recordBatch',
      args: [
        fleet.batch(
          devices,
          n,
          devices.map((d) => d.partial),
        ),
      ],
    });
    const result = JSON.parse(Buffer.from(r.result).toString()) as { accepted: number; rejected: unknown[] };
    if (result.accepted !== n) throw new Error(`partials batch: ${JSON.stringify(result.rejected).slice(0, 300)}`);
    return fleet;
  }

  /** The devices split into `n` groups (device i in group i mod n). */
  groups(n: number): Device[][] {
    const out: Device[][] = Array.from({ length: Math.min(n, this.devices.length) }, () => []);
    this.devices.forEach((d, i) => out[i % out.length]?.push(d));
    return out;
  }

  /**
   * The recordBatch argument of the next `size` readings, round-robin over `devices`: the packed
   * batch as bytes, as the edge's forwarder sends it.
   */
  batch(devices: readonly Device[], size: number, partials: readonly PartialSignatureJson[] = []): Uint8Array {
    const readings: PackableReading[] = [];
    for (let i = 0; i < size; i++) {
      const d = devices[i % devices.length] as Device;
      const seq = d.seq++;
      const reading: Reading = {
        deviceId: d.id,
        seq,
        t: 1_700_000_000_000 + seq * 1000,
        epoch: EPOCH,
        partialDigest: Buffer.from(d.partial.partialDigest, 'hex'),
        batteryMv: 3300 - (seq % 100),
        channels: [{ id: 0, scale: -2, value: 2000 + (seq % 500) }],
        bootCount: 1,
        uptimeMs: seq * 1000,
      };
      const canonical = encodeReading(reading);
      readings.push({
        canonical,
        // The board's tag: HMAC(K_tag, "pv2:r" ‖ canonical), K_tag = HKDF-Expand(K_IoT, "pv2:kt").
        tag: createHmac('sha256', d.kTag).update(DOMAIN_READING, 'latin1').update(canonical).digest(),
        edgeId: EDGE_ID,
        receivedAt: reading.t + 5,
        path: [`device:${d.id}`, `edge:${EDGE_ID}`, 'bridge:bench'],
      });
    }
    return encodePackedBatch(readings, partials);
  }
}
