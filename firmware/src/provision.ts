/**
 * Provisioning: the Storage file `provenant.json` the flasher writes (docs/firmware.md):
 *
 *   { "deviceId": "plant3-t-0001", "key": "<K_IoT, base64 of 32 bytes>", "link": "USB",
 *     "baud": 115200, "path": "/dev/pts/7", "intervalMs": 60000,
 *     "sensors": ["temperature", "analog"], "analogPin": "A5", "production": false, "seqFloor": 0 }
 *
 * Only deviceId and key are required; the rest default from the board profile. The key is
 * base64 because the board decodes it with its built-in atob (no hex code in the bundle).
 * Validation returns the first problem as text (sent to the edge in a STATUS frame).
 */
import { BOARD } from './board.js';
import { base64Bytes } from './espruino.js';

/** Validated provisioning. */
export interface Provisioning {
  readonly deviceId: string;
  readonly key: Uint8Array;
  readonly link: string;
  readonly baud: number;
  readonly path: string;
  readonly intervalMs: number;
  readonly sensors: readonly string[];
  readonly analogPin: string;
  readonly production: boolean;
  readonly seqFloor: number;
}

/** Fastest sampling interval any provisioning may ask for, in ms. */
export const MIN_INTERVAL_MS = 100;

/** Provisioning from the parsed JSON, or the text of the first problem. */
export function parseProvisioning(j: { [k: string]: unknown }): Provisioning | string {
  function get(k: string, dflt: unknown): unknown {
    return j[k] === undefined ? dflt : j[k];
  }
  function int(k: string, dflt: number, min: number, max: number): number {
    const v = get(k, dflt);
    if (typeof v !== 'number' || v !== Math.floor(v) || v < min || v > max) throw k + ': integer ' + min + '..' + max;
    return v;
  }
  function str(k: string, dflt: string, ok: (s: string) => boolean): string {
    const v = get(k, dflt);
    if (typeof v !== 'string' || !ok(v)) throw k + ': invalid';
    return v;
  }
  try {
    const key = base64Bytes(str('key', '', function (s) {
      return s.length === 44;
    }));
    const sensors = get('sensors', BOARD.sensors) as string[];
    if (!(sensors instanceof Array)) throw 'sensors: array';
    for (let i = 0; i < sensors.length; i++) if (BOARD.sensors.indexOf(sensors[i] as string) < 0) throw 'sensors: ' + sensors[i] + ' not on ' + BOARD.name;
    return {
      // A loop, not a regex: Espruino's RegExp engine is minimal.
      deviceId: str('deviceId', '', function (s) {
        for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x21 || s.charCodeAt(i) > 0x7e) return false;
        return s.length > 0 && s.length <= 64;
      }),
      key: key,
      link: str('link', BOARD.link, function (s) {
        return BOARD.links.indexOf(s) >= 0;
      }),
      baud: int('baud', BOARD.baud, 300, 4000000),
      path: str('path', '', function () {
        return true;
      }),
      intervalMs: int('intervalMs', 60000, MIN_INTERVAL_MS, 86400000),
      sensors: sensors,
      analogPin: str('analogPin', BOARD.analog, function () {
        return true;
      }),
      production: j['production'] === true,
      seqFloor: int('seqFloor', 0, 0, 0xffffffff),
    };
  } catch (e) {
    return String(e);
  }
}
