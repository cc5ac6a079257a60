/**
 * The simulated board's flash: Espruino's Storage API over a Map, optionally mirrored to a
 * directory so a "power cycle" (a new simulated board on the same directory) finds its files.
 * Names are Espruino's (≤ 28 chars, may start with a dot); on disk they are URI-encoded.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Flash contents that outlive a simulated board's reboots. */
export class SimStorage {
  private readonly files = new Map<string, Buffer>();
  /** Writes and erases so far (flash wear, for the benchmark). */
  writes = 0;

  constructor(private readonly dir?: string) {
    if (dir) {
      // The board's flash holds provenant.json with K_IoT: the mirror is private to its user.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const f of readdirSync(dir)) this.files.set(decodeURIComponent(f), readFileSync(join(dir, f)));
    }
  }

  /** Raw bytes of a file, or undefined. */
  get(name: string): Buffer | undefined {
    return this.files.get(name);
  }

  /** Replaces a whole file. */
  set(name: string, data: Buffer): void {
    if (name.length === 0 || name.length > 28) throw new RangeError(`Storage: file name "${name}" must be 1..28 characters`);
    this.files.set(name, data);
    this.writes++;
    if (this.dir) writeFileSync(join(this.dir, encodeURIComponent(name)), data, { mode: 0o600 });
  }

  /** Removes a file (no error when absent). */
  erase(name: string): void {
    if (!this.files.delete(name)) return;
    this.writes++;
    if (this.dir) {
      const p = join(this.dir, encodeURIComponent(name));
      if (existsSync(p)) rmSync(p);
    }
  }

  /** File names, sorted. */
  list(): string[] {
    return [...this.files.keys()].sort();
  }
}

/** Bytes of whatever Espruino code passes as file data (string, typed array, array, object). */
export function toBytes(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'latin1');
  if (ArrayBuffer.isView(data)) return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]')
    return Buffer.from(new Uint8Array(data as ArrayBuffer));
  if (Array.isArray(data)) return Buffer.from(data.map((x) => Number(x) & 255));
  if (typeof data === 'number') return Buffer.from([data & 255]);
  if (data !== null && typeof data === 'object') return Buffer.from(JSON.stringify(data), 'latin1');
  return Buffer.from(String(data), 'latin1');
}
