/** Entry of `provenant eval worker <role>`: one process of the evaluation (bench/eval/ipc.ts). */
import { ProvenantError } from '../../shared/errors.js';

export async function runWorker(role: string): Promise<void> {
  if (!process.send)
    throw new ProvenantError('PROV_ERR_BAD_INPUT', 'eval worker runs only under `provenant eval paper` (it needs its IPC channel)');
  if (role === 'boards') return (await import('./board-host.js')).runBoardHost();
  if (role === 'edge') return (await import('./edge-host.js')).runEdgeHost();
  if (role === 'auditor') return (await import('./auditor-host.js')).runAuditorHost();
  throw new ProvenantError('PROV_ERR_BAD_INPUT', `unknown eval worker role '${role}' (boards, edge, auditor)`, { field: 'role' });
}
