import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZE_BUDGET, listBoards, loadBoard, validateBoard } from '../../firmware/boards.js';
import { ProvenantError } from '../../shared/errors.js';

const base = () => JSON.parse(JSON.stringify(loadBoard('PICO'))) as Record<string, unknown> & { link: Record<string, unknown> };

describe('board profiles', () => {
  it('every profile validates and names its file', () => {
    for (const n of listBoards()) expect(loadBoard(n).name).toBe(n);
  });
  it('LINUX defaults to Serial1: its USB is the interpreter stdin, where a 0x04 byte ends the process', () => {
    expect(loadBoard('LINUX').link.default).toBe('Serial1');
    expect(loadBoard('LINUX').link.available).not.toContain('USB');
  });
  it('defaults the size budget to 8 KB when a profile names none', () => {
    const b = base();
    delete b.sizeBudget;
    expect(validateBoard(b).sizeBudget).toBe(DEFAULT_SIZE_BUDGET);
  });
  it('rejects schema and cross-field violations with the reason', () => {
    const bad1 = { ...base(), link: { default: 'Serial9', available: ['USB'], baud: 9600 } };
    expect(() => validateBoard(bad1)).toThrow(/link\/default/);
    const bad2 = { ...base(), link: { default: 'Serial1', available: ['USB'], baud: 9600 } };
    expect(() => validateBoard(bad2)).toThrow(/default link Serial1 is not in link.available/);
    const bad3 = { ...base(), variables: 9000, boardVariables: 5000 };
    expect(() => validateBoard(bad3)).toThrow(/exceeds boardVariables/);
    const bad4 = { ...base(), battery: 'none' };
    expect(() => validateBoard(bad4)).toThrow(/needs a battery method/);
    expect(() => loadBoard('NOPE')).toThrow(ProvenantError);
    expect(() => loadBoard('NOPE')).toThrow(/known: .*PICO/);
  });
});
