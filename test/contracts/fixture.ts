/**
 * A configured embedded ledger (H4b's engine, a real SQLite file in a temp dir) running the real
 * contract classes, with an issuer, a policy and helpers to enroll devices, sign partials and
 * build signed readings. Shared by the contract and auditor tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRACTS, type LedgerClient } from '../../ledger-bridge/client.js';
import { contracts } from '../../ledger-bridge/contracts/index.js';
import { EmbeddedLedger, EmbeddedLedgerClient } from '../../ledger-bridge/embedded/index.js';
import type { ContractClass } from '../../ledger-bridge/embedded/host.js';
import { findIdentity } from '../../ledger-bridge/embedded/identity.js';
import { ready } from '../../shared/crypto/bbs.js';
import { complete } from '../../shared/crypto/complete.js';
import { partialToJson, type Credential, type PartialSignatureJson } from '../../shared/crypto/credential.js';
import { enrollDevice, setup, signPartial, type Enrollment, type Issuer } from '../../shared/crypto/outsourced.js';
import type { Policy } from '../../shared/crypto/policy.js';
import { sha256 } from '../../shared/crypto/sha256.js';
import { toSubmission, type ReadingSubmission } from '../../shared/records.js';
import { packedBatchArg, packReadingBatch } from '../../shared/encoding/batch.js';
import type { Reading } from '../../shared/types.js';
import { ledgerKeys } from '../../shared/crypto/domains.js';

export const POLICY: Policy = { id: 'temp-plant-3', anyOf: [{ site: 'plant-3', type: 'temperature' }] };
export const EDGE_ID = 'edge-1';
export const T0 = 1_700_000_000_000;

/** Attributes of a device that satisfies POLICY. */
export function attrs(deviceId: string, site = 'plant-3'): Record<string, string> {
  return { deviceId, site, line: 'L1', type: 'temperature', owner: 'acme', fw: '1.0.0' };
}

const decoder = new TextDecoder();

/** Parses a contract's JSON payload. */
export function json<T = Record<string, unknown>>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

/** A test world: one ledger, clients for the authority, an edge and an auditor. */
export class World {
  private constructor(
    readonly dir: string,
    readonly ledger: EmbeddedLedger,
    readonly aa: LedgerClient,
    readonly edge: LedgerClient,
    readonly auditor: LedgerClient,
    readonly issuer: Issuer,
  ) {}

  /** `contracts`: the contract classes the ledger runs (default: all of this build's; a test of an older deployment passes fewer functions). */
  static async open(options: { configure?: boolean; contracts?: readonly ContractClass[] } = {}): Promise<World> {
    await ready();
    const dir = mkdtempSync(join(tmpdir(), 'prov-contracts-'));
    const ledger = await EmbeddedLedger.open({
      path: join(dir, 'ledger.db'),
      contracts: options.contracts ?? contracts,
      blockTimeoutMs: 1,
    });
    const issuer = setup({ keyMaterial: new Uint8Array(32).fill(7) });
    const world = new World(
      dir,
      ledger,
      new EmbeddedLedgerClient(ledger, 'aa'),
      new EmbeddedLedgerClient(ledger, 'edge-1'),
      new EmbeddedLedgerClient(ledger, 'auditor'),
      issuer,
    );
    if (options.configure !== false) {
      await world.configure();
      await world.registerEdge(EDGE_ID, 'edge-1');
    }
    return world;
  }

  async close(): Promise<void> {
    await this.ledger.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  configJson(): string {
    return JSON.stringify({ issuerPk: Buffer.from(this.issuer.pk).toString('hex'), schema: this.issuer.schema, policies: [POLICY] });
  }

  async configure(client: LedgerClient = this.aa): Promise<Record<string, unknown>> {
    return json((await client.submit({ contract: CONTRACTS.deviceRegistration, fn: 'configure', args: [this.configJson()] })).result);
  }

  /** The authority binds the embedded identity `identityName` to `edgeId` in the edge registry. */
  async registerEdge(edgeId: string, identityName: string): Promise<Record<string, unknown>> {
    const who = findIdentity(this.ledger.identities, identityName);
    return json(
      (
        await this.aa.submit({
          contract: CONTRACTS.deviceRegistration,
          fn: 'registerEdge',
          args: [JSON.stringify({ edgeId, mspId: who.mspId, id: who.id })],
        })
      ).result,
    );
  }

  /** Enrolls and registers a device; returns the enrollment and the registration result. */
  async enroll(
    deviceId: string,
    site = 'plant-3',
  ): Promise<{ enrollment: Enrollment; result: { txId: string; bcId: string; version: number } }> {
    const enrollment = enrollDevice(this.issuer, attrs(deviceId, site));
    const r = await this.aa.submit({
      contract: CONTRACTS.deviceRegistration,
      fn: 'register',
      args: [JSON.stringify({ version: 1, ...enrollment.registration, gatewayId: EDGE_ID })],
      transient: { ...ledgerKeys(sha256, enrollment.device.kIoT) },
    });
    return { enrollment, result: { ...json<{ txId: string; bcId: string; version: number }>(r.result), txId: r.txId } };
  }
}

/** The edge's partial for a device and epoch, as the batch carries it. */
export function partialFor(credential: Credential, epoch: number, edgeId = EDGE_ID): PartialSignatureJson {
  return partialToJson(signPartial(credential, { epoch, edgeId, policy: POLICY }));
}

/** A reading of `deviceId` under a partial. */
export function readingOf(deviceId: string, seq: number, partial: PartialSignatureJson, overrides: Partial<Reading> = {}): Reading {
  return {
    deviceId,
    seq,
    t: T0 + seq * 1000,
    epoch: partial.epoch,
    partialDigest: Buffer.from(partial.partialDigest, 'hex'),
    batteryMv: 3300,
    channels: [{ id: 0, scale: -2, value: 2000 + seq }],
    bootCount: 1,
    uptimeMs: seq * 1000,
    ...overrides,
  };
}

/** The signed submission of a reading under K_IoT. */
export function signed(kIoT: Uint8Array, reading: Reading, edgeId = EDGE_ID): ReadingSubmission {
  return toSubmission({ reading, tag: complete(sha256, kIoT, reading) }, edgeId, reading.t + 5, [
    `device:${reading.deviceId}`,
    `edge:${edgeId}`,
    'bridge:test',
  ]);
}

/**
 * The recordBatch argument for readings: the packed batch as bytes (what the edge sends), its
 * base64 (what Fabric and the HTTP API carry), or ReadingBatch JSON.
 */
export function batchArg(
  readings: readonly ReadingSubmission[],
  partials: readonly PartialSignatureJson[],
  encoding: 'packed' | 'base64' | 'json',
): string | Uint8Array {
  if (encoding === 'json') return JSON.stringify({ version: 1, readings, partials });
  const packed = packReadingBatch({ readings, partials });
  return encoding === 'base64' ? packedBatchArg(packed) : packed;
}

/** Submits a batch through the edge's client (packed, unless `encoding` says json) and returns the parsed result. */
export async function recordBatch(
  world: World,
  readings: readonly ReadingSubmission[],
  partials: readonly PartialSignatureJson[] = [],
  encoding: 'packed' | 'base64' | 'json' = 'packed',
) {
  const r = await world.edge.submit({
    contract: CONTRACTS.dataProvenance,
    fn: 'recordBatch',
    args: [batchArg(readings, partials, encoding)],
  });
  return {
    txId: r.txId,
    blockNumber: r.blockNumber,
    ...json<{
      accepted: number;
      rejected: { index: number; deviceId: string; seq: number; reason: string; message: string; duplicate?: true }[];
      rejectedPartials: { partialDigest: string; reason: string }[];
    }>(r.result),
  };
}

/** The contract error code a rejected promise carries (message starts with it). */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return /PROV_ERR_[A-Z0-9_]+/.exec((err as Error).message)?.[0] ?? `no code in: ${(err as Error).message}`;
  }
  return 'no error';
}

/**
 * The contract set of a deployment older than `fn`: this build's classes, with `contract`'s
 * transaction metadata (what the host, like fabric-shim, dispatches by) lacking `fn`, so calling
 * it reaches fabric-contract-api's unknownTransaction ("function that does not exist").
 */
export function contractsWithout(contract: ContractClass, fn: string): ContractClass[] {
  class Older extends contract {}
  const R = Reflect as unknown as {
    getMetadata(k: string, t: object): { name: string }[] | undefined;
    defineMetadata(k: string, v: unknown, t: object): void;
  };
  const txs = R.getMetadata('fabric:transactions', contract.prototype as object) ?? [];
  if (!txs.some((t) => t.name === fn)) throw new Error(`${contract.name} has no transaction ${fn} to leave out`);
  R.defineMetadata(
    'fabric:transactions',
    txs.filter((t) => t.name !== fn),
    Older.prototype,
  );
  return contracts.map((c) => (c === contract ? Older : c)) as ContractClass[];
}
