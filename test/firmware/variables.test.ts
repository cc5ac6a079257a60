/**
 * The 2,000-variable estimate (firmware/variables.ts) for every built bundle: the peak fits the
 * brief's target and the board's own `boardVariables`, with the code in Storage and even with
 * it in RAM; the model grows with what it models; and a profile that claims too few variables
 * is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_FIRMWARE, ensureFirmwareBuilt } from '../../firmware/build.js';
import { CHARS_PER_VAR, estimateVariables, variableProblems } from '../../firmware/variables.js';
import { listBoards, loadBoard } from '../../firmware/boards.js';

beforeAll(async () => {
  await ensureFirmwareBuilt();
});

const bundle = (name: string) => readFileSync(join(DIST_FIRMWARE, `${name}.js`), 'latin1');

describe('Espruino variable estimate', () => {
  for (const name of listBoards()) {
    it(`${name}: the estimated peak fits 2,000 variables and the board's boardVariables`, () => {
      const board = loadBoard(name);
      const v = estimateVariables(bundle(name), board);
      expect(variableProblems(v, board)).toEqual([]);
      expect(v.peak).toBeLessThanOrEqual(board.variables);
      expect(v.peak).toBeLessThanOrEqual(board.boardVariables);
      expect(v.atRest).toBe(v.code + v.state);
      expect(v.peak).toBeGreaterThan(v.atRest + v.ringFull);
      // Code in RAM costs its text, one block per CHARS_PER_VAR bytes.
      expect(v.codeInRam - v.code).toBe(Math.ceil(bundle(name).length / CHARS_PER_VAR));
    });
  }

  it('grows with the ring, the sensors and the code', () => {
    const board = loadBoard('PICO');
    const text = bundle('PICO');
    const base = estimateVariables(text, board);
    expect(estimateVariables(text, { ...board, ringSize: board.ringSize * 2 }).ringFull).toBeGreaterThan(base.ringFull);
    expect(estimateVariables(text, { ...board, sensors: ['battery'] }).samplePath).toBeLessThan(base.samplePath);
    expect(estimateVariables(`${text};(function(a,b){return a+b})(1,2);`, board).code).toBe(base.code + 4 + 2);
  });

  it('a profile claiming fewer variables than the estimate is refused, naming the board', () => {
    const board = loadBoard('PUCKJS');
    const v = estimateVariables(bundle('PUCKJS'), board);
    expect(variableProblems(v, { ...board, boardVariables: v.peak - 1 }).join('; ')).toMatch(/PUCKJS/);
    expect(variableProblems(v, { ...board, variables: v.peak - 1 })[0]).toMatch(/target of PUCKJS/);
    expect(variableProblems(v, { ...board, boardVariables: v.peak - v.code + v.codeInRam - 1 })).toHaveLength(1);
  });
});
