/**
 * Provisioning: the Storage file `provenant.json` the flasher writes (docs/firmware.md):
 *
 *   { "deviceId": "plant3-t-0001", "key": "<K_IoT, base64 of 32 bytes>", "link": "USB",
 *     "baud": 115200, "path": "/dev/pts/7", "intervalMs": 60000,
 *     "sensors": ["temperature", "analog"], "analogPin": "A5", "production": false, "seqFloor": 0,
 *     "notBefore": 1767225600000, "signGapMs": 60000 }
 *
 * Only deviceId and key are required; the rest default from the board profile. The key is
 * base64 because the board decodes it with its built-in atob (no hex code in the bundle).
 * Validation returns the name of the first bad field (sent to the edge as the text of a STATUS
 * BAD_PROVISIONING frame; docs/firmware.md lists them).
 */
import { ANALOG, BAUD, EPOCH_SIGNATURES, LINK, LINKS, SENSORS } from './board.js';
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
  /** ms since the Unix epoch before which no reading may be dated (the flash time; clock.ts floor). */
  readonly notBefore: number;
  /** Fewest ms between two epoch signatures (docs/firmware.md, "Epoch signatures"); only on a board that signs them. */
  signGapMs?: number;
}

/** Fastest sampling interval any provisioning may ask for, in ms. */
export const MIN_INTERVAL_MS = 100;

/** Provisioning from the parsed JSON, or the name of the first bad field. */
export function parseProvisioning(j: { [k: string]: unknown }): Provisioning | string {
  function get(k: string, dflt: unknown): unknown {
    return j[k] === undefined ? dflt : j[k];
  }
  function int(k: string, dflt: number, min: number, max: number): number {
    const v = get(k, dflt);
    // v !== Math.floor(v) also refuses every non-number (Math.floor returns a number).
    if (v !== Math.floor(v as number) || (v as number) < min || (v as number) > max) throw k;
    return v;
  }
  function str(k: string, dflt: string, ok?: (s: string) => boolean): string {
    const v = get(k, dflt);
    if (typeof v !== 'string' || (ok && !ok(v))) throw k;
    return v;
  }
  try {
    // Whatever the string, only exactly 32 decoded bytes pass (bad base64 throws or decodes short).
    const key = base64Bytes(str('key', ''));
    if (key.length !== 32) throw 'key';
    const sensors = get('sensors', SENSORS) as string[];
    if (!(sensors instanceof Array)) throw 'sensors';
    for (let i = 0; i < sensors.length; i++) if (SENSORS.indexOf(sensors[i] as string) < 0) throw 'sensors';
    const p: Provisioning = {
      // A loop, not a regex: Espruino's RegExp engine is minimal.
      deviceId: str('deviceId', '', function (s) {
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c < 0x21 || c > 0x7e) return false;
        }
        return s.length > 0 && s.length <= 64;
      }),
      key: key,
      link: str('link', LINK, function (s) {
        return LINKS.indexOf(s) >= 0;
      }),
      baud: int('baud', BAUD, 300, 4000000),
      path: str('path', ''),
      intervalMs: int('intervalMs', 60000, MIN_INTERVAL_MS, 86400000),
      sensors: sensors,
      analogPin: str('analogPin', ANALOG),
      production: get('production', false) === true,
      seqFloor: int('seqFloor', 0, 0, 0xffffffff),
      notBefore: int('notBefore', 0, 0, 9e15),
    };
    if (EPOCH_SIGNATURES) p.signGapMs = int('signGapMs', 60000, 1000, 86400000);
    return p;
  } catch (e) {
    // Only the key's base64 decoding throws something other than a field name.
    return typeof e === 'string' ? e : 'key';
  }
}
