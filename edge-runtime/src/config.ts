/**
 * The edge's configuration file (YAML or JSON), validated against a JSON schema with ajv. The
 * schema is the one source: the TypeScript types are derived from it (json-schema-to-ts), so the
 * two cannot drift. Every error names the field (`boards[1].serial.baudRate: must be integer`),
 * and all of a file's errors are reported at once, so an operator editing
 * /etc/provenant/edge.yaml on a Raspberry Pi fixes them in one go. `checkConfigFiles` opens every
 * file the edge will open (`provenant edge --check`). docs/edge.md is the reference.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import { ProvenantError } from '../../shared/errors.js';
import type { FabricConfig } from '../../ledger-bridge/connect.js';

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
          properties: {
            type: { const: 'embedded' },
            path: { type: 'string', minLength: 1 },
            identity: { type: 'string', minLength: 1, default: 'edge-1' },
          },
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
        // One submitProfiles transaction per window holds every device's profile up to this many.
        maxProfilesPerTransaction: { type: 'integer', minimum: 1, maximum: 5000, default: 200 },
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

/** The config file as the schema accepts it, with ajv's defaults filled in. */
export type ConfigFile = FromSchema<typeof CONFIG_SCHEMA>;

/** A board link: serial (path + baud) or BLE (address). */
export type BoardConfig = ConfigFile['boards'][number];

type FileLedger = ConfigFile['ledger'];

/** The validated configuration. Paths are absolute (relative ones resolve against the file's directory). */
export type EdgeConfig = Omit<ConfigFile, 'ledger' | 'provenance'> & {
  readonly ledger: Exclude<FileLedger, { type: 'fabric' }> | { readonly type: 'fabric'; readonly fabric: FabricConfig };
  /** The edge's provenance database, filled from the ledger by a follower (docs/architecture.md); `db` resolved. */
  readonly provenance: ConfigFile['provenance'] & { readonly db: string };
};

/** One problem in a config: the field (`boards[1].serial.baudRate`) and what is wrong with it. */
export interface ConfigProblem {
  readonly field: string;
  readonly message: string;
}

function configError(message: string, field: string, file?: string): ProvenantError {
  return new ProvenantError('PROV_ERR_CONFIG', `${file ? `${file}: ` : ''}${message}`, { field });
}

/** One error for every problem: the message lists them all, `details.problems` holds them. */
export function problemsError(problems: readonly ConfigProblem[], file?: string): ProvenantError {
  const first = problems[0] as ConfigProblem;
  const lines = problems.map((p) => `${p.field}: ${p.message}`);
  const message = problems.length === 1 ? lines[0] : `${problems.length} problems:\n  ${lines.join('\n  ')}`;
  return new ProvenantError('PROV_ERR_CONFIG', `${file ? `${file}: ` : ''}${message}`, { field: first.field, problems });
}

/** `/boards/1/serial/baudRate` → `boards[1].serial.baudRate` */
function fieldName(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(root)';
}

interface AjvError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

/**
 * ajv (allErrors) reports every branch of a failed `oneOf`. Keep the branch the input meant: not
 * one whose discriminator (`const`) failed, then the one whose errors reach deepest into the
 * input, then the one with fewest errors. When every branch's discriminator failed, say which
 * values are allowed.
 */
function pickBranches(errors: readonly AjvError[]): AjvError[] {
  const nodes = errors.filter((e) => e.keyword === 'oneOf');
  let kept = errors.filter((e) => e.keyword !== 'oneOf');
  const synthetic: AjvError[] = [];
  for (const node of nodes) {
    const prefix = `${node.schemaPath}/`;
    const inNode = kept.filter((e) => e.schemaPath.startsWith(prefix) && e.instancePath.startsWith(node.instancePath));
    const branches = new Map<string, AjvError[]>();
    for (const e of inNode) {
      const b = e.schemaPath.slice(prefix.length).split('/')[0] as string;
      branches.set(b, [...(branches.get(b) ?? []), e]);
    }
    const candidates = [...branches.values()].filter((es) => !es.some((e) => e.keyword === 'const'));
    const depth = (es: AjvError[]): number => Math.max(...es.map((e) => e.instancePath.split('/').length));
    candidates.sort((a, b) => depth(b) - depth(a) || a.length - b.length);
    const best = candidates[0];
    kept = kept.filter((e) => !inNode.includes(e) || (best !== undefined && best.includes(e)));
    if (best === undefined) {
      const allowed = inNode.filter((e) => e.keyword === 'const').map((e) => JSON.stringify(e.params['allowedValue']));
      const at = inNode.find((e) => e.keyword === 'const');
      synthetic.push({
        keyword: 'enum',
        instancePath: at?.instancePath ?? node.instancePath,
        schemaPath: node.schemaPath,
        params: {},
        message: `must be one of ${[...new Set(allowed)].join(', ')}`,
      });
    }
  }
  return [...kept, ...synthetic];
}

function problemOf(e: AjvError): ConfigProblem {
  const extra =
    e.keyword === 'required'
      ? (e.params['missingProperty'] as string)
      : e.keyword === 'additionalProperties'
        ? (e.params['additionalProperty'] as string)
        : undefined;
  const message =
    e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not a known field' : (e.message ?? 'is invalid');
  return { field: fieldName(e.instancePath, extra), message };
}

/** Validates parsed config input; throws one PROV_ERR_CONFIG naming every bad field. */
export async function validateConfig(input: unknown, baseDir: string, file?: string): Promise<EdgeConfig> {
  const { default: Ajv } = await import('ajv');
  const ajv = new Ajv.default({ useDefaults: true, allErrors: true, strict: false });
  const validate = ajv.compile(CONFIG_SCHEMA);
  const copy = JSON.parse(JSON.stringify(input ?? null)) as unknown;
  if (!validate(copy)) {
    const seen = new Set<string>();
    const problems = pickBranches((validate.errors ?? []) as AjvError[])
      .map(problemOf)
      .filter((p) => (seen.has(`${p.field}: ${p.message}`) ? false : (seen.add(`${p.field}: ${p.message}`), true)));
    throw problemsError(problems.length > 0 ? problems : [{ field: '(root)', message: 'invalid config' }], file);
  }
  const c = copy as ConfigFile;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const problems: ConfigProblem[] = [];
  if (c.api.enabled && !c.api.token && !c.api.tokenFile)
    problems.push({ field: 'api.token', message: 'api.token or api.tokenFile is required while api.enabled' });
  if (c.auditor && !c.auditor.token && !c.auditor.tokenFile)
    problems.push({ field: 'auditor.token', message: 'auditor.token or auditor.tokenFile is required with an auditor section' });
  let ledger: EdgeConfig['ledger'] | undefined;
  // ajv fills no defaults inside oneOf (boards[], ledger): those two are filled here.
  const boards = c.boards.map((b) => ('serial' in b ? { ...b, serial: { ...b.serial, baudRate: b.serial.baudRate ?? 115200 } } : b));
  if (c.ledger.type === 'embedded') {
    ledger = { ...c.ledger, path: abs(c.ledger.path), identity: c.ledger.identity ?? 'edge-1' };
  } else if (c.ledger.type === 'http') {
    if (!c.ledger.token && !c.ledger.tokenFile)
      problems.push({ field: 'ledger.token', message: 'ledger.token or ledger.tokenFile is required for an http ledger' });
    ledger = { ...c.ledger, ...(c.ledger.tokenFile ? { tokenFile: abs(c.ledger.tokenFile) } : {}) };
  } else {
    const { validateFabricConfig } = await import('../../ledger-bridge/connect.js');
    const section = Object.fromEntries(Object.entries(c.ledger).filter(([k]) => k !== 'type'));
    try {
      const f = validateFabricConfig(section);
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
    } catch (err) {
      const field = `ledger.${String((err as { details?: { field?: string } }).details?.field ?? '')}`;
      problems.push({ field, message: (err as Error).message.replace(/^fabric config: /, '').replace(/^[\w.[\]]+: /, '') });
    }
  }
  if (problems.length > 0 || ledger === undefined) throw problemsError(problems, file);
  const provenanceDb = c.provenance.db;
  return {
    ...c,
    boards,
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
        provenanceDb === undefined
          ? resolve(abs(c.dataDir), 'provenance.db')
          : /^postgres(ql)?:\/\//.test(provenanceDb)
            ? provenanceDb
            : abs(provenanceDb),
    },
    ...(c.auditor ? { auditor: { ...c.auditor, ...(c.auditor.tokenFile ? { tokenFile: abs(c.auditor.tokenFile) } : {}) } } : {}),
  };
}

/** What `checkConfigFiles` found: errors stop the edge; warnings it can live with. */
export interface FileCheck {
  readonly errors: ConfigProblem[];
  readonly warnings: ConfigProblem[];
  /** Credential files found in credentials.dir. */
  readonly credentials: number;
}

function readable(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return `${path} is a directory`;
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Opens (for reading) every file the edge will open, and checks the places it will write: what
 * `provenant edge --check` reports, all at once. Does not contact the ledger or the boards.
 */
export function checkConfigFiles(config: EdgeConfig): FileCheck {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const need = (field: string, path: string | undefined): void => {
    if (path === undefined) return;
    const why = readable(path);
    if (why !== undefined) errors.push({ field, message: `cannot read ${path}: ${why}` });
  };
  // dataDir: the outbox lives there; the edge creates the directory, so its nearest existing ancestor must be writable.
  let dir = config.dataDir;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    errors.push({ field: 'dataDir', message: `cannot write in ${config.dataDir}: ${(err as Error).message}` });
  }
  let credentials = 0;
  try {
    credentials = readdirSync(config.credentials.dir).filter((f) => f.endsWith('.credential.json')).length;
    if (credentials === 0)
      warnings.push({ field: 'credentials.dir', message: `no *.credential.json in ${config.credentials.dir}: no board can say HELLO` });
  } catch (err) {
    errors.push({ field: 'credentials.dir', message: `cannot list ${config.credentials.dir}: ${(err as Error).message}` });
  }
  need('credentials.issuerPkFile', config.credentials.issuerPkFile);
  if (config.api.enabled) {
    need('api.tokenFile', config.api.tokenFile);
    if (
      config.api.tokenFile &&
      readable(config.api.tokenFile) === undefined &&
      readFileSync(config.api.tokenFile, 'utf8').trim().length < 16
    )
      errors.push({ field: 'api.tokenFile', message: `${config.api.tokenFile}: the token must be at least 16 characters` });
  }
  const l = config.ledger;
  if (l.type === 'embedded' && !existsSync(l.path))
    errors.push({
      field: 'ledger.path',
      message: `no ledger at ${l.path} (the authority creates it: provenant device configure --db ${l.path})`,
    });
  if (l.type === 'http') {
    need('ledger.tokenFile', l.tokenFile);
    if (l.tokenFile && readable(l.tokenFile) === undefined && readFileSync(l.tokenFile, 'utf8').trim() === '')
      errors.push({ field: 'ledger.tokenFile', message: `${l.tokenFile} is empty` });
  }
  if (l.type === 'fabric') {
    need('ledger.certPath', l.fabric.certPath);
    need('ledger.keyPath', l.fabric.keyPath);
    need('ledger.tlsCaCertPath', l.fabric.tlsCaCertPath);
  }
  config.boards.forEach((b, i) => {
    if ('serial' in b && !existsSync(b.serial.path))
      warnings.push({ field: `boards[${i}].serial.path`, message: `${b.serial.path} does not exist (yet): the edge waits for it` });
  });
  return { errors, warnings, credentials };
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
