/**
 * Board profiles (firmware/boards/*.json): which data link a board uses, its pins and sensors,
 * the variable and size budget the firmware must fit. The firmware build bakes the profile into
 * each board's bundle; the flasher and the simulated board read it too. Node-only.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { ProvenantError } from '../shared/errors.js';

/** Data links the firmware can use. `Bluetooth` is the Nordic UART service. */
export const LINKS = ['USB', 'Serial1', 'Serial2', 'Bluetooth'] as const;
/** One of LINKS. */
export type LinkName = (typeof LINKS)[number];

/** How the board measures its battery: NRF.getBattery(), E.getAnalogVRef(), or not at all. */
export type BatteryMethod = 'nrf' | 'vref' | 'none';

/** Pins of a serial port. */
export interface SerialPins {
  readonly rx: string;
  readonly tx: string;
}

/** A board profile, as validated from firmware/boards/<NAME>.json. */
export interface BoardProfile {
  readonly name: string;
  readonly description: string;
  readonly link: { readonly default: LinkName; readonly available: readonly LinkName[]; readonly baud: number };
  readonly pins: {
    readonly analog?: string;
    readonly button?: string;
    readonly led?: string;
    readonly serial1?: SerialPins;
    readonly serial2?: SerialPins;
  };
  readonly sensors: readonly ('temperature' | 'analog' | 'battery')[];
  readonly battery: BatteryMethod;
  /** Variables (JsVars) the firmware may use at most. */
  readonly variables: number;
  /** Variables the board's Espruino build has in total. */
  readonly boardVariables: number;
  /** Largest minified bundle in bytes (DEFAULT_SIZE_BUDGET when the profile omits it). */
  readonly sizeBudget: number;
  /** Entries in the resend ring. */
  readonly ringSize: number;
  /** Modules built into this board's Espruino (require() of these needs no upload). */
  readonly espruinoModules: readonly string[];
  /**
   * The board signs its epoch segments with LMS (firmware/src/epochs.ts, docs/firmware.md "Epoch
   * signatures"); false or absent leaves that code out of the bundle.
   */
  readonly epochSignatures?: boolean;
}

const serialPins = {
  type: 'object',
  required: ['rx', 'tx'],
  additionalProperties: false,
  properties: { rx: { type: 'string' }, tx: { type: 'string' } },
};

/** JSON schema of a board profile. */
export const BOARD_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'link', 'pins', 'sensors', 'battery', 'variables', 'boardVariables', 'ringSize', 'espruinoModules'],
  properties: {
    name: { type: 'string', pattern: '^[A-Z0-9_]{2,16}$' },
    description: { type: 'string' },
    link: {
      type: 'object',
      additionalProperties: false,
      required: ['default', 'available', 'baud'],
      properties: {
        default: { enum: LINKS },
        available: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: LINKS } },
        baud: { type: 'integer', minimum: 300, maximum: 4000000 },
      },
    },
    pins: {
      type: 'object',
      additionalProperties: false,
      properties: {
        analog: { type: 'string' },
        button: { type: 'string' },
        led: { type: 'string' },
        serial1: serialPins,
        serial2: serialPins,
      },
    },
    sensors: { type: 'array', uniqueItems: true, items: { enum: ['temperature', 'analog', 'battery'] } },
    battery: { enum: ['nrf', 'vref', 'none'] },
    variables: { type: 'integer', minimum: 500, maximum: 100000 },
    boardVariables: { type: 'integer', minimum: 500, maximum: 1000000 },
    sizeBudget: { type: 'integer', minimum: 1024, maximum: 65536 },
    ringSize: { type: 'integer', minimum: 1, maximum: 32 },
    espruinoModules: { type: 'array', items: { type: 'string' }, contains: { const: 'Storage' } },
    epochSignatures: { type: 'boolean' },
  },
} as const;

/** Size budget of a profile that names none: the brief's 8 KB target. */
export const DEFAULT_SIZE_BUDGET = 8192;

/**
 * The size budget of a bundle built with epoch signatures (bytes; the LINUX one is 14,038). The
 * code runs from Storage (.bootcde), so its bytes cost flash, not variables; what it costs in
 * variables is measured on Espruino's interpreter by test/firmware/epochs-memory-espruino.test.ts:
 * under --test-mem-n 2000 it boots, signs and delivers two segments while it makes a key set,
 * with 833 of its variables in use at the end (docs/firmware.md, "Epoch signatures").
 */
export const EPOCH_SIGNATURES_SIZE_BUDGET = 16_384;

/** Folder of the profiles. */
export const BOARDS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'boards');

const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(BOARD_SCHEMA);

/**
 * Validates a parsed profile. Throws ProvenantError(PROV_ERR_CONFIG) listing every schema
 * violation, plus the cross-field rules the schema cannot say (default link is available, the
 * variable budget fits the board, a `battery` sensor needs a battery method).
 */
export function validateBoard(data: unknown, source = 'board profile'): BoardProfile {
  if (!validate(data)) {
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
    throw new ProvenantError('PROV_ERR_CONFIG', `${source}: ${why}`, { field: 'schema' });
  }
  const raw = data as { sizeBudget?: number };
  if (raw.sizeBudget === undefined) raw.sizeBudget = DEFAULT_SIZE_BUDGET;
  const b = data as unknown as BoardProfile;
  const problems: string[] = [];
  if (!b.link.available.includes(b.link.default)) problems.push(`default link ${b.link.default} is not in link.available`);
  if (b.variables > b.boardVariables) problems.push(`variables ${b.variables} exceeds boardVariables ${b.boardVariables}`);
  if (b.sensors.includes('battery') && b.battery === 'none') problems.push('sensor "battery" needs a battery method');
  if (b.sensors.includes('analog') && !b.pins.analog) problems.push('sensor "analog" needs pins.analog');
  if (!b.espruinoModules.includes('crypto')) problems.push('espruinoModules must include crypto (native SHA256)');
  if (problems.length > 0) throw new ProvenantError('PROV_ERR_CONFIG', `${source}: ${problems.join('; ')}`, { field: 'profile' });
  return b;
}

/** Names of all profiles, sorted. */
export function listBoards(): string[] {
  return readdirSync(BOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Loads and validates firmware/boards/<name>.json; unknown names list the known ones. */
export function loadBoard(name: string): BoardProfile {
  const known = listBoards();
  if (!known.includes(name)) {
    throw new ProvenantError('PROV_ERR_CONFIG', `unknown board "${name}" (known: ${known.join(', ')})`, { field: 'board' });
  }
  const file = join(BOARDS_DIR, `${name}.json`);
  const profile = validateBoard(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
  if (profile.name !== name)
    throw new ProvenantError('PROV_ERR_CONFIG', `${file}: name ${profile.name} differs from the file name`, { field: 'name' });
  return profile;
}
