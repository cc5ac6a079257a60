import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/support/sequencer.js';

// Tests live under test/ by part (shared, firmware, edge, ledger, fabric, traffic, e2e).
// Crypto and kill -9 tests are slow on a 2-core box, hence the generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'shared/**/*.test.ts'],
    // 120 s: the machine CI runs on is shared; at load 30 on 2 cores a 20 s file took over 60 s.
    // Hooks 300 s: at load 50 a beforeAll building the firmware bundles took over 120 s.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Three workers on the 2-core CI machine: most test time is waiting (boards sampling every
    // 100-200 ms, processes starting, Fabric committing blocks), and two workers kept the cores
    // about 40 % busy (5.5 min of CPU in a 7 min run).
    maxWorkers: 3,
    // One real Fabric network per run, started only when a test asks for it (test/support/fabric).
    globalSetup: ['test/support/fabric/global-setup.ts'],
    reporters: ['default'],
    // The longest files start first so none is left running alone at the end (test/support/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
  },
});
