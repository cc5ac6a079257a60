/**
 * The worker side of the shared network (see global-setup.ts): asks the broker for the run's
 * network. Returns undefined where no broker was provided (a vitest config without the global
 * setup), so the caller starts a network of its own.
 */
import { inject } from 'vitest';
import type { NetworkInfo } from './network.js';

export async function sharedNetworkInfo(): Promise<NetworkInfo | undefined> {
  let url: string | undefined;
  try {
    url = inject('provenantFabricBroker');
  } catch {
    url = undefined; // not inside a vitest worker
  }
  if (!url) return undefined;
  const res = await fetch(`${url}/network`, { method: 'POST' });
  const body = await res.text();
  if (!res.ok) throw new Error(body);
  return JSON.parse(body) as NetworkInfo;
}
