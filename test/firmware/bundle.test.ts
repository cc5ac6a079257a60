/** The built bundles: ES5 only, within budget, only Espruino built-ins required, fwHash honest. */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'acorn';
import { computeFwHash, DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { ALLOWED_REQUIRES, checkBundle } from '../../firmware/check.js';
import { listBoards, loadBoard } from '../../firmware/boards.js';

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

const manifest = () =>
  JSON.parse(readFileSync(join(DIST_FIRMWARE, 'manifest.json'), 'utf8')) as { bundles: { board: string; fwHash: string; bytes: number }[] };

describe('firmware bundles', () => {
  it('there is one bundle per board profile', () => {
    expect(
      manifest()
        .bundles.map((b) => b.board)
        .sort(),
    ).toEqual(listBoards());
    expect(listBoards()).toEqual(expect.arrayContaining(['PICO', 'PUCKJS', 'MDBT42Q', 'ESP32', 'LINUX']));
  });

  for (const name of listBoards()) {
    it(`${name}: parses as ECMAScript 5, fits its budget, requires only crypto and Storage`, () => {
      const text = readFileSync(join(DIST_FIRMWARE, `${name}.js`), 'latin1');
      expect(() => parse(text, { ecmaVersion: 5 })).not.toThrow();
      const board = loadBoard(name);
      expect(Buffer.byteLength(text, 'latin1')).toBeLessThanOrEqual(board.sizeBudget);
      const c = checkBundle(text, board);
      expect(c.problems).toEqual([]);
      expect(c.requires).toEqual([...ALLOWED_REQUIRES].sort());
      expect(text).not.toMatch(/=>|\bconst\b|\blet\b|\bclass\b|`/); // belt and braces next to acorn
      const entry = manifest().bundles.find((b) => b.board === name)!;
      expect(computeFwHash(text, entry.fwHash)).toBe(entry.fwHash);
    });
  }

  it('each bundle carries only the code its profile can use (per-field profile constants folded)', () => {
    for (const name of listBoards()) {
      const text = readFileSync(join(DIST_FIRMWARE, `${name}.js`), 'latin1');
      const b = loadBoard(name);
      expect(text.includes('NRF.getBattery'), `${name} NRF battery code`).toBe(b.battery === 'nrf');
      expect(text.includes('getAnalogVRef'), `${name} vref battery code`).toBe(b.battery === 'vref');
      expect(text.includes('digitalRead'), `${name} boot button code`).toBe(Boolean(b.pins.button));
      for (const port of ['serial1', 'serial2'] as const) {
        const pins = b.pins[port];
        if (pins) expect(text, `${name} ${port} pins`).toContain(`rx:"${pins.rx}"`);
      }
      expect(text).not.toMatch(/use strict/);
      // Tree-shaken: no reading decoder (its error code), no layout-string codec (its layouts).
      expect(text).not.toMatch(/PROV_ERR|partialDigest:b32|deviceId:a1/);
    }
  });

  it('the checker rejects later syntax, foreign or dynamic requires, and oversize bundles', () => {
    const board = { name: 'T', sizeBudget: 64, espruinoModules: ['Storage', 'crypto'] };
    expect(checkBundle('var f = (a) => a;', board).problems[0]).toMatch(/not ECMAScript 5/);
    expect(checkBundle('let a = 1;', board).problems[0]).toMatch(/not ECMAScript 5/);
    expect(checkBundle('var x = `t`;', board).problems[0]).toMatch(/not ECMAScript 5/);
    expect(checkBundle('require("fs");', board).problems).toEqual(['require("fs") is not an allowed Espruino built-in']);
    expect(checkBundle('var n="crypto";require(n);', board).problems).toEqual(['require() with a non-literal argument']);
    expect(checkBundle('require("crypto");', { ...board, espruinoModules: ['Storage'] }).problems[0]).toMatch(/not built into T/);
    expect(checkBundle(`var s = "${'x'.repeat(100)}";`, board).problems[0]).toMatch(/over the 64-byte budget/);
  });
});
