/**
 * The edge's configuration file (YAML or JSON), validated against a JSON schema with ajv. Every
 * error names the field (`boards[1].serial.baudRate: must be integer`), so an operator editing
 * /etc/provenant/edge.yaml on a Raspberry Pi knows what to fix. docs/edge.md is the reference.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ProvenantError } from '../../shared/errors.js';
import type { FabricConfig } from '../../ledger-bridge/connect.js';

/** A board link: serial (path + baud) or BLE (address). */
export type BoardConfig =
  | { readonly name?: string; readonly serial: { readonly path: string; readonly baudRate: number } }
  | { readonly name?: string; readonly ble: { readonly address: string; readonly scanTimeoutMs?: number } };

/** The validated configuration. Paths are absolute (relative ones resolve against the file's directory). */
export interface EdgeConfig {
  readonly edgeId: string;
  readonly dataDir: string;
  readonly credentials: { readonly dir: string; readonly issuerPk?: string; readonly issuerPkFile?: string };
  readonly policy: { readonly id: string; readonly anyOf: readonly Record<string, string>[] };
  readonly epochSeconds: number;
  readonly profile: { readonly intervalMs: number; readonly maxPerMinute: number; readonly burst: number; readonly slack: number };
  readonly boards: readonly BoardConfig[];
  readonly ledger:
    | { readonly type: 'embedded'; readonly path: string; readonly identity: string }
    | { readonly type: 'http'; readonly url: string; readonly identity?: string; readonly token?: string; readonly tokenFile?: string }
    | { readonly type: 'fabric'; readonly fabric: FabricConfig };
  readonly outbox: {
    readonly maxPending: number;
    readonly synchronous: 'FULL' | 'NORMAL';
    readonly retainCommittedHours: number;
    readonly batchSize: number;
    readonly maxWaitMs: number;
    readonly retryInitialMs: number;
    readonly retryMaxMs: number;
  };
  readonly traffic: { readonly enabled: boolean; readonly windowSeconds: number; readonly thresholds: Readonly<Record<string, number>> };
  readonly api: {
    readonly enabled: boolean;
    readonly host: string;
    readonly port: number;
    readonly token?: string;
    readonly tokenFile?: string;
  };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' };
  /** The edge's provenance database, filled from the ledger by a follower (docs/architecture.md). */
  readonly provenance: { readonly enabled: boolean; readonly db: string; readonly retainDays: number };
  /** A provenance auditor that validation requests are forwarded to (else the edge validates locally). */
  readonly auditor?: { readonly url: string; readonly token?: string; readonly tokenFile?: string };
}

const ID = { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$' } as const;

/** The JSON schema of the config file (defaults filled in by ajv). */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['edgeId', 'dataDir', 'credentials', 'policy', 'ledger'],
  properties: {
    edgeId: ID,
    dataDir: { type: 'string', minLength: 1 },
    credentials: {
      type: 'object',
      additionalProperties: false,
      required: ['dir'],
      properties: {
        dir: { type: 'string', minLength: 1 },
        issuerPk: { type: 'string', pattern: '^[0-9a-fA-F]{192}$' },
        issuerPkFile: { type: 'string', minLength: 1 },
      },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'anyOf'],
      properties: {
        id: { type: 'string', minLength: 1 },
        anyOf: { type: 'array', minItems: 1, items: { type: 'object', minProperties: 1, additionalProperties: { type: 'string' } } },
      },
    },
    epochSeconds: { type: 'integer', minimum: 1, default: 3600 },
    profile: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        intervalMs: { type: 'integer', minimum: 100, default: 1000 },
        maxPerMinute: { type: 'integer', minimum: 0, maximum: 65535, default: 0 },
        burst: { type: 'integer', minimum: 1, maximum: 10000, default: 16 },
        slack: { type: 'number', minimum: 0, maximum: 10, default: 0.25 },
      },
    },
    boards: {
      type: 'array',
      default: [],
      items: {
        oneOf: [
          {
            type: 'object',
            additionalProperties: false,
            required: ['serial'],
            properties: {
              name: { type: 'string' },
              serial: {
                type: 'object',
                additionalProperties: false,
                required: ['path'],
                properties: { path: { type: 'string', minLength: 1 }, baudRate: { type: 'integer', minimum: 1, default: 115200 } },
              },
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['ble'],
            properties: {
              name: { type: 'string' },
              ble: {
                type: 'object',
                additionalProperties: false,
                required: ['address'],
                properties: {
                  address: { type: 'string', pattern: '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$' },
                  scanTimeoutMs: { type: 'integer', minimum: 1000 },
                },
              },
            },
          },
        ],
      },
    },
    ledger: {
      type: 'object',
      required: ['type'],
      oneOf: [
        {
          additionalProperties: false,
          required: ['type', 'path'],
          properties: { type: { const: 'embedded' }, path: { type: 'string', minLength: 1 }, identity: { type: 'string', minLength: 1 } },
        },
        {
          // Checked in full by ledger-bridge/fabric/config.ts (validateFabricConfig, deploy/fabric/config/edge.yaml).
          required: ['type', 'peerEndpoint'],
          properties: { type: { const: 'fabric' } },
        },
        {
          additionalProperties: false,
          required: ['type', 'url'],
          properties: {
            type: { const: 'http' },
            url: { type: 'string', pattern: '^https?://' },
            identity: { type: 'string' },
            token: { type: 'string', minLength: 1 },
            tokenFile: { type: 'string', minLength: 1 },
          },
        },
      ],
    },
    outbox: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxPending: { type: 'integer', minimum: 1, default: 100000 },
        synchronous: { enum: ['FULL', 'NORMAL'], default: 'FULL' },
        retainCommittedHours: { type: 'number', exclusiveMinimum: 0, default: 24 },
        batchSize: { type: 'integer', minimum: 1, maximum: 10000, default: 500 },
        maxWaitMs: { type: 'integer', minimum: 0, default: 200 },
        retryInitialMs: { type: 'integer', minimum: 1, maximum: 3600000, default: 500 },
        retryMaxMs: { type: 'integer', minimum: 1, maximum: 3600000, default: 5000 },
      },
    },
    traffic: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        windowSeconds: { type: 'number', minimum: 0.1, default: 60 },
        thresholds: { type: 'object', additionalProperties: { type: 'number', exclusiveMinimum: 0 }, default: { '*': 6, '*~*': 6 } },
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      // No api section: no API (nothing listens without a token). An api section: enabled unless it says otherwise.
      default: { enabled: false },
      properties: {
        enabled: { type: 'boolean', default: true },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        token: { type: 'string', minLength: 16 },
        tokenFile: { type: 'string', minLength: 1 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], default: 'info' } },
    },
    provenance: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        db: { type: 'string', minLength: 1, description: 'SQLite file or postgres:// URL (default: <dataDir>/provenance.db)' },
        retainDays: { type: 'number', minimum: 0, default: 0, description: '0: keep every reading' },
      },
    },
    auditor: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        token: { type: 'string', minLength: 16 },
        tokenFile: { type: 'string', minLength: 1 },
      },
    },
  },
} as const;

function configError(message: string, field: string, file?: string): ProvenantError {
  return new ProvenantError('PROV_ERR_CONFIG', `${file ? `${file}: ` : ''}${message}`, { field });
}

/** `/boards/1/serial/baudRate` → `boards[1].serial.baudRate` */
function fieldName(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(root)';
}

/** Validates parsed config input; throws PROV_ERR_CONFIG naming the first bad field. */
export async function validateConfig(input: unknown, baseDir: string, file?: string): Promise<EdgeConfig> {
  const { default: Ajv } = await import('ajv');
  const ajv = new Ajv.default({ useDefaults: true, allErrors: false, strict: false });
  const validate = ajv.compile(CONFIG_SCHEMA);
  const copy = JSON.parse(JSON.stringify(input ?? null)) as unknown;
  if (!validate(copy)) {
    const errors = validate.errors ?? [];
    // oneOf failures report every branch; the most specific error is the deepest one.
    const e = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
    if (!e) throw configError('invalid config', '(root)', file);
    const extra =
      e.keyword === 'required'
        ? (e.params as { missingProperty: string }).missingProperty
        : e.keyword === 'additionalProperties'
          ? (e.params as { additionalProperty: string }).additionalProperty
          : undefined;
    const field = fieldName(e.instancePath, extra);
    const what =
      e.keyword === 'required'
        ? 'is required'
        : e.keyword === 'additionalProperties'
          ? 'is not a known field'
          : (e.message ?? 'is invalid');
    throw configError(`${field}: ${what}`, field, file);
  }
  const c = copy as EdgeConfig & { ledger: { type: string; path?: string } };
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  if (c.api.enabled && !c.api.token && !c.api.tokenFile)
    throw configError('api.token or api.tokenFile is required while api.enabled', 'api.token', file);
  if (c.auditor && !c.auditor.token && !c.auditor.tokenFile)
    throw configError('auditor.token or auditor.tokenFile is required with an auditor section', 'auditor.token', file);
  if (c.ledger.type === 'http' && !('token' in c.ledger && c.ledger.token) && !('tokenFile' in c.ledger && c.ledger.tokenFile)) {
    throw configError('ledger.token or ledger.tokenFile is required for an http ledger', 'ledger.token', file);
  }
  let ledger: EdgeConfig['ledger'];
  if (c.ledger.type === 'embedded') {
    ledger = { type: 'embedded', path: abs(c.ledger.path as string), identity: (c.ledger as { identity?: string }).identity ?? 'edge-1' };
  } else if (c.ledger.type === 'fabric') {
    const { validateFabricConfig } = await import('../../ledger-bridge/connect.js');
    const section = Object.fromEntries(Object.entries(c.ledger).filter(([k]) => k !== 'type'));
    let f: FabricConfig;
    try {
      f = validateFabricConfig(section);
    } catch (err) {
      const field = `ledger.${String((err as { details?: { field?: string } }).details?.field ?? '')}`;
      throw configError(`${field}: ${(err as Error).message.replace(/^fabric config: /, '')}`, field, file);
    }
    ledger = {
      type: 'fabric',
      fabric: {
        ...f,
        certPath: abs(f.certPath),
        keyPath: abs(f.keyPath),
        ...(f.tlsCaCertPath ? { tlsCaCertPath: abs(f.tlsCaCertPath) } : {}),
        ...(f.checkpointPath ? { checkpointPath: abs(f.checkpointPath) } : {}),
      },
    };
  } else {
    ledger = c.ledger as EdgeConfig['ledger'];
  }
  return {
    ...c,
    dataDir: abs(c.dataDir),
    credentials: {
      ...c.credentials,
      dir: abs(c.credentials.dir),
      ...(c.credentials.issuerPkFile ? { issuerPkFile: abs(c.credentials.issuerPkFile) } : {}),
    },
    ledger,
    api: { ...c.api, ...(c.api.tokenFile ? { tokenFile: abs(c.api.tokenFile) } : {}) },
    provenance: {
      ...c.provenance,
      db:
        (c.provenance as { db?: string }).db === undefined
          ? resolve(abs(c.dataDir), 'provenance.db')
          : /^postgres(ql)?:\/\//.test(c.provenance.db)
            ? c.provenance.db
            : abs(c.provenance.db),
    },
    ...(c.auditor ? { auditor: { ...c.auditor, ...(c.auditor.tokenFile ? { tokenFile: abs(c.auditor.tokenFile) } : {}) } } : {}),
  };
}

/** Reads and validates a config file (.yaml, .yml or .json). */
export async function loadConfig(path: string): Promise<EdgeConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError(`cannot read config: ${(err as Error).message}`, '(file)', path);
  }
  let parsed: unknown;
  try {
    if (/\.json$/i.test(path)) parsed = JSON.parse(text);
    else parsed = (await import('yaml')).parse(text);
  } catch (err) {
    throw configError(`not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message}`, '(file)', path);
  }
  return validateConfig(parsed, dirname(resolve(path)), path);
}

/** Reads a secret from the config value or its file (trimmed). */
export function secretFrom(value: string | undefined, file: string | undefined, field: string): string {
  if (value) return value;
  if (!file) throw configError(`${field} is required`, field);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw configError(`${field}File: ${(err as Error).message}`, `${field}File`);
  }
}
