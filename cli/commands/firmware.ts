/** `provenant firmware build|check`: the Espruino bundles (docs/firmware.md). */
import type { Command } from 'commander';

export function register(program: Command): void {
  const fw = program.command('firmware').description('build and inspect the Espruino firmware bundles');
  fw.command('build')
    .description('compile firmware/ to one minified ES5 bundle per board profile in dist/firmware/')
    .option('--board <names...>', 'only these board profiles (default: all in firmware/boards/)')
    .option('--out <dir>', 'output folder (default: dist/firmware)')
    .action(async (opts: { board?: string[]; out?: string }) => {
      const { buildFirmware } = await import('../../firmware/build.js');
      const built = await buildFirmware({ boards: opts.board, outDir: opts.out });
      const { loadBoard } = await import('../../firmware/boards.js');
      for (const b of built) {
        process.stdout.write(
          `${b.board.padEnd(8)} ${String(b.bytes).padStart(6)} bytes (budget ${b.sizeBudget})  fwHash ${b.fwHash.slice(0, 16)}…  ${b.path}\n`,
        );
      }
      // The variable estimate (firmware/variables.ts): a model of Espruino's JsVars, not a measurement.
      process.stdout.write('\nestimated Espruino variables (code runs from Storage; docs/firmware.md "Memory")\n');
      process.stdout.write('board     code  state  at rest  ring full  sample  receive  peak   board has  code if in RAM\n');
      for (const b of built) {
        const v = b.variables;
        const p = loadBoard(b.board);
        process.stdout.write(
          `${b.board.padEnd(8)} ${String(v.code).padStart(5)} ${String(v.state).padStart(6)} ${String(v.atRest).padStart(8)} ${String(v.ringFull).padStart(10)} ${String(v.samplePath).padStart(7)} ${String(v.receivePath).padStart(8)} ${String(v.peak).padStart(5)} ${String(p.boardVariables).padStart(10)} ${String(v.codeInRam).padStart(15)}\n`,
        );
      }
    });
  fw.command('boards')
    .description('list the board profiles with their default link and budgets')
    .action(async () => {
      const { listBoards, loadBoard } = await import('../../firmware/boards.js');
      for (const name of listBoards()) {
        const b = loadBoard(name);
        process.stdout.write(
          `${name.padEnd(8)} link ${b.link.default.padEnd(9)} ${b.link.baud} baud  ${b.variables} vars  ${b.sizeBudget} bytes  ${b.description}\n`,
        );
      }
    });
}
