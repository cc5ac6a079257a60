/**
 * `provenant eval paper` (npm run eval:paper): the seed paper's evaluation (Fig. 7 throughput,
 * Fig. 8 response time, Fig. 9 device cost) run through the whole system, with plots, tables, the
 * paper's values beside ours and one JSON line at the end. bench/eval/ holds the implementation;
 * `eval worker <role>` is how it starts its processes (not for direct use).
 */
import type { Command } from 'commander';
import { ProvenantError } from '../../shared/errors.js';

const list =
  (name: string) =>
  (v: string): number[] => {
    // 'none': the sweep left out (e.g. `--rates none --pi-boards none` runs only the node sweeps).
    if (v.trim() === 'none') return [];
    const xs = v.split(',').map((x) => Number(x.trim()));
    if (xs.length === 0 || xs.some((x) => !(Number.isFinite(x) && x > 0)))
      throw new ProvenantError('PROV_ERR_BAD_INPUT', `${name} must be a comma-separated list of positive numbers (or none), got '${v}'`, {
        field: name,
      });
    return xs;
  };

export function register(program: Command): void {
  const ev = program.command('eval').description("the seed paper's evaluation, reproduced end to end (plots, tables, JSON)");
  ev.command('paper')
    .description('Fig. 7 throughput, Fig. 8 response time, Fig. 9 device cost: boards → edge → ledger → auditor, with plots')
    .option('--figures <list>', 'figures to run: 7, 8, 9 (comma-separated)', '7,8,9')
    .option('--quick', 'fewer points and shorter windows (a few minutes)')
    .option('--smallest', 'only the smallest point of each experiment (the test)')
    .option('-c, --config <file>', 'run on a Fabric network (client config, docs/fabric.md) instead of the embedded ledger')
    .option(
      '--ledger-pids <list>',
      "with --config: local processes whose CPU counts as the ledger's (peer, orderer, chaincode server; default: the kit network's peer and orderer from $FABNET_DIR)",
      list('--ledger-pids'),
    )
    .option('--out <dir>', 'where plots, tables and the JSON go', 'eval-out/paper')
    .option('--nodes <list>', 'Fig. 7/8 node counts', list('--nodes'))
    .option('--rates <list>', 'Fig. 7 per-node packet rates at 30 nodes', list('--rates'))
    .option('--pi-boards <list>', 'boards per Raspberry Pi stand-in edge (stops once it saturates)', list('--pi-boards'))
    .option('--pi-rate <n>', 'readings/s per board on the Pi stand-in', Number, 2)
    .option('--warm <s>', 'warm-up seconds per point', Number)
    .option('--measure <s>', 'measurement window per point (s)', Number)
    .option(
      '--board-procs <n>',
      'board-host processes (the load generator; default 2, or 4 when a point has 150+ boards: 2 starve there)',
      Number,
    )
    .option('--batch <n>', "edge forwarder's readings per transaction", Number, 500)
    .option('--max-wait-ms <ms>', "edge forwarder's longest wait for a batch to fill", Number, 5)
    .option('--replot <paper.json>', 'no run: draw the plots and tables again from a saved paper.json into --out')
    .action(async (opts: Record<string, unknown>) => {
      const { runPaperEval, replotPaper } = await import('../../bench/eval/paper.js');
      if (typeof opts['replot'] === 'string') await replotPaper(opts['replot'], opts['out'] as string);
      else await runPaperEval(opts as never);
    });
  ev.command('worker <role>', { hidden: true })
    .description('a process of the evaluation (boards, edge, auditor), driven over IPC')
    .action(async (role: string) => {
      const { runWorker } = await import('../../bench/eval/worker.js');
      await runWorker(role);
    });
}
