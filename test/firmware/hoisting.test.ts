/**
 * Espruino does not hoist `var` or function declarations (measured on 2v29: a use before the
 * declaration reaches the outer scope). The build declares such vars first; the check refuses
 * what it cannot fix, and no built bundle has any left.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { checkBundle } from '../../firmware/check.js';
import { earlyUses, hoistEarlyVars } from '../../firmware/hoisting.js';
import { listBoards } from '../../firmware/boards.js';

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

describe('uses before declaration', () => {
  it('finds a var used before its declaration in the same function, not in nested functions or after it', () => {
    const text = 'var v=function(){};function f(s){for(var i=0;i<s.length;i++){if((v=s.charCodeAt(i))>9)return}var v;return v}';
    expect(earlyUses(text).map((u) => [u.name, u.kind, text.slice(u.at, u.at + 3)])).toEqual([['v', 'var', 'v=s']]);
    expect(earlyUses('function f(){var a=1;return function(){return b};var b=2}')).toEqual([]); // nested: may run later
    expect(earlyUses('function f(r){try{g()}catch(r){}return r;function g(){}}').map((u) => u.name)).toEqual(['g']);
    expect(earlyUses('var o={v:1};function f(){return o.v+o["v"]}var v;')).toEqual([]); // property names are not uses
  });

  it('hoistEarlyVars declares those vars at the top of their function, and only those', () => {
    const text = 'var v=function(){};function f(s){v=s;var v;return function(){x=1;var x}}';
    const fixed = hoistEarlyVars(text);
    expect(fixed).toBe('var v=function(){};function f(s){var v;v=s;var v;return function(){var x;x=1;var x}}');
    expect(earlyUses(fixed)).toEqual([]);
    expect(hoistEarlyVars('function f(){var a=1;return a}')).toBe('function f(){var a=1;return a}');
  });

  it('the bundle check refuses an early call of a function declared further down', () => {
    const board = { name: 'T', sizeBudget: 8192, espruinoModules: ['Storage', 'crypto'] };
    expect(checkBundle('!function(){g();function g(){}}();', board).problems[0]).toMatch(/"g" is used .* before its function declaration/);
  });

  for (const name of listBoards()) {
    it(`${name}: the built bundle has no use before declaration`, () => {
      expect(earlyUses(readFileSync(join(DIST_FIRMWARE, `${name}.js`), 'latin1'))).toEqual([]);
    });
  }
});
