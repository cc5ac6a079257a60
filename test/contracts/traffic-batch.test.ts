/**
 * The submitProfiles suite (an edge's window of traffic profiles in one transaction) on the
 * embedded ledger: the real contracts, a real SQLite file.
 */
import { World } from './fixture.js';
import { trafficBatchSuite } from './traffic-batch-suite.js';

trafficBatchSuite('embedded ledger', async () => {
  const w = await World.open({ configure: false });
  return { aa: w.aa, edge: w.edge, reader: w.auditor, close: () => w.close() };
});
