/**
 * The order test files start in. On a fresh clone (CI) vitest knows no durations and starts the
 * largest files first, so a long but short-to-read file (a kill loop, the demo's attacks) could
 * start last and run alone on one worker while the other idles. The files below start first,
 * longest first (from a full run on the 2-core development machine at load ~15, 6 December); the rest follow in vitest's
 * own order (durations from its cache where it has them, else size).
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first. A file missing here only starts later; nothing else depends on this list. */
export const LONGEST_FIRST = [
  'test/e2e/espruino-chain.test.ts',
  'test/firmware/memory-on-espruino.test.ts',
  'test/e2e/provenance-processes.test.ts',
  'test/fabric/docs.test.ts',
  'test/firmware/protocol.test.ts',
  'test/firmware/epochs-espruino.test.ts',
  'test/e2e/demo-attacks.test.ts',
  'test/hardware/flash.test.ts',
  'test/firmware/profiles-on-espruino.test.ts',
  'test/bench/eval-paper.test.ts',
  'test/fabric/faults.test.ts',
  'test/firmware/cli.test.ts',
  'test/contracts/device-provenance-fabric.test.ts',
  'test/ledger-client/fabric.test.ts',
  'test/crypto/bbs-interop.test.ts',
  'test/fabric/bench.test.ts',
  'test/e2e/kill9.test.ts',
  'test/firmware/trust-board.test.ts',
  'test/firmware/epochs.test.ts',
  'test/fabric/contracts.test.ts',
  'test/fabric/client.test.ts',
  'test/traffic/eval.test.ts',
  'test/ledger/kill9.test.ts',
  'test/ledger/engine.test.ts',
  'test/hardware/sim-cli.test.ts',
  'test/auditor/auditor-http-cli.test.ts',
  'test/e2e/pipeline.test.ts',
  'test/console/browser.test.ts',
  'test/e2e/trust-edge.test.ts',
  'test/auditor/cli.test.ts',
  'test/traffic/model.test.ts',
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FIRST.indexOf(relative(root, f.moduleId).split('\\').join('/'));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the files not listed keep vitest's order.
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
