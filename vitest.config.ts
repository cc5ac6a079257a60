import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/support/sequencer.js';

// Tests live under test/ by part (shared, firmware, edge, ledger, fabric, traffic, e2e).
// Crypto and kill -9 tests are slow on a 2-core box, hence the generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'shared/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One real Fabric network per run, started only when a test asks for it (test/support/fabric).
    globalSetup: ['test/support/fabric/global-setup.ts'],
    reporters: ['default'],
    // The longest files start first so none is left running alone at the end (test/support/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
  },
});
