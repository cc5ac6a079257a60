/**
 * Configuration of the Fabric ledger client, validated with ajv; errors name the field. The same
 * shape is the `ledger.fabric` section of the edge and auditor config files (deploy/fabric/) and
 * the file `bench fabric --config` reads.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import YAML from 'yaml';
import { ProvenantError } from '../../shared/errors.js';

const require = createRequire(import.meta.url);

/** Everything FabricLedgerClient needs to reach one gateway peer as one identity. */
export interface FabricConfig {
  /** Gateway peer, HOST:PORT (e.g. peer0.org1.example.com:7051). */
  readonly peerEndpoint: string;
  /** PEM file of the CA that signed the peer's TLS certificate; omit only for a plaintext peer. */
  readonly tlsCaCertPath?: string;
  /** TLS server name to expect when it differs from the endpoint host (grpc.ssl_target_name_override). */
  readonly hostNameOverride?: string;
  /** MSP id of the client identity (e.g. Org1MSP). */
  readonly mspId: string;
  /** PEM X.509 certificate of the client identity. */
  readonly certPath: string;
  /** PEM (PKCS#8 or SEC1) private key of the client identity; never logged. */
  readonly keyPath: string;
  readonly channel: string;
  /** Chaincode name as approved/committed with `peer lifecycle` (e.g. provenant). */
  readonly chaincode: string;
  /** Organisations that must endorse proposals carrying transient data (K_IoT deposits). */
  readonly transientEndorsingOrgs?: readonly string[];
  readonly timeouts?: {
    readonly evaluateMs?: number;
    readonly endorseMs?: number;
    readonly submitMs?: number;
    readonly commitStatusMs?: number;
  };
  /** Transactions endorsed/submitted but not yet committed, at most (default 64). */
  readonly maxInFlight?: number;
  /** Retries for MVCC conflicts and unavailable peers (default 5). */
  readonly maxRetries?: number;
  /** Checkpoint file for chaincode events, so a restart resumes where it stopped. */
  readonly checkpointPath?: string;
}

/** Defaults filled in by `validateFabricConfig`. */
export const FABRIC_DEFAULTS = {
  timeouts: { evaluateMs: 5_000, endorseMs: 15_000, submitMs: 5_000, commitStatusMs: 60_000 },
  maxInFlight: 64,
  maxRetries: 5,
} as const;

const endpoint = '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$';
const ms = { type: 'integer', minimum: 1, maximum: 3_600_000 };
const nonEmpty = { type: 'string', minLength: 1 };

/**
 * JSON schema of the Fabric section. Another config (the edge's `ledger: { type: 'fabric', … }`)
 * can embed it: `{ ...FABRIC_CONFIG_SCHEMA, properties: { type: { const: 'fabric' }, ...FABRIC_CONFIG_SCHEMA.properties } }`.
 */
export const FABRIC_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['peerEndpoint', 'mspId', 'certPath', 'keyPath', 'channel', 'chaincode'],
  properties: {
    peerEndpoint: { type: 'string', pattern: endpoint },
    tlsCaCertPath: nonEmpty,
    hostNameOverride: nonEmpty,
    mspId: nonEmpty,
    certPath: nonEmpty,
    keyPath: nonEmpty,
    channel: { type: 'string', pattern: '^[a-z][a-z0-9.-]{0,248}$' },
    chaincode: { type: 'string', pattern: '^[A-Za-z0-9_.+-]+$' },
    transientEndorsingOrgs: { type: 'array', items: nonEmpty, minItems: 1 },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      properties: { evaluateMs: ms, endorseMs: ms, submitMs: ms, commitStatusMs: ms },
    },
    maxInFlight: { type: 'integer', minimum: 1, maximum: 10_000 },
    maxRetries: { type: 'integer', minimum: 0, maximum: 100 },
    checkpointPath: nonEmpty,
  },
} as const;

type AjvLike = {
  compile(
    s: unknown,
  ): ((d: unknown) => boolean) & { errors?: { instancePath: string; message?: string; params: Record<string, unknown> }[] | null };
};
let validator: ReturnType<AjvLike['compile']> | undefined;

/**
 * Validates a parsed config object and returns it with defaults. Throws PROV_ERR_CONFIG whose
 * message and `details.field` name the offending field (e.g. `timeouts.endorseMs`).
 */
export function validateFabricConfig(raw: unknown): FabricConfig & typeof FABRIC_DEFAULTS {
  if (!validator) {
    const Ajv = require('ajv') as new (o: object) => AjvLike;
    validator = new Ajv({ allErrors: false, strict: true }).compile(FABRIC_CONFIG_SCHEMA);
  }
  if (!validator(raw)) {
    const e = validator.errors?.[0];
    const path = (e?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const missing = e?.params.missingProperty as string | undefined;
    const extra = e?.params.additionalProperty as string | undefined;
    const field = [path, missing ?? extra].filter(Boolean).join('.') || '(root)';
    const why = extra ? 'is not a known field' : missing ? 'is required' : (e?.message ?? 'is invalid');
    throw new ProvenantError('PROV_ERR_CONFIG', `fabric config: ${field} ${why}`, { field });
  }
  const cfg = raw as FabricConfig;
  return {
    ...cfg,
    timeouts: { ...FABRIC_DEFAULTS.timeouts, ...cfg.timeouts },
    maxInFlight: cfg.maxInFlight ?? FABRIC_DEFAULTS.maxInFlight,
    maxRetries: cfg.maxRetries ?? FABRIC_DEFAULTS.maxRetries,
  } as FabricConfig & typeof FABRIC_DEFAULTS;
}

/**
 * Reads a YAML or JSON file and validates its Fabric section: the file's `ledger` object when it
 * says `type: fabric` (the edge/auditor config, deploy/fabric/edge.yaml), else `ledger.fabric`,
 * else the whole document. Relative paths resolve against the file's folder.
 */
export function loadFabricConfig(path: string): FabricConfig & typeof FABRIC_DEFAULTS {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ProvenantError('PROV_ERR_CONFIG', `cannot read fabric config "${path}": ${(cause as Error).message}`, {
      field: 'config',
      cause,
    });
  }
  const ledger = (doc as { ledger?: { type?: unknown; fabric?: unknown } } | null)?.ledger;
  let section: unknown = doc;
  if (ledger && ledger.type === 'fabric') {
    section = Object.fromEntries(Object.entries(ledger).filter(([k]) => k !== 'type'));
  } else if (ledger?.fabric !== undefined) section = ledger.fabric;
  const cfg = validateFabricConfig(section);
  const base = dirname(resolve(path));
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(base, p));
  return {
    ...cfg,
    certPath: abs(cfg.certPath) as string,
    keyPath: abs(cfg.keyPath) as string,
    ...(cfg.tlsCaCertPath ? { tlsCaCertPath: abs(cfg.tlsCaCertPath) as string } : {}),
    ...(cfg.checkpointPath ? { checkpointPath: abs(cfg.checkpointPath) as string } : {}),
  };
}
