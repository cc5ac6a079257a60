/**
 * CPU time of local processes (Linux /proc/PID/stat utime + stime), so the Fabric benchmark can
 * state the work per reading of each part — peer, orderer, chaincode server, this client — which
 * does not depend on how busy the machine is, unlike a rate. Processes that are not local (a
 * remote peer) are simply not measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU seconds (user + system) a process has used, or undefined when it cannot be read. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces: fields start after the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

/** The orderer's and the peer's pids from a network the Fabric kit started ($FABNET_DIR/run/*.pid). */
export function fabnetPids(dir: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!dir) return out;
  for (const node of ['peer', 'orderer']) {
    try {
      const pid = Number(readFileSync(join(dir, 'run', `${node}.pid`), 'utf8').trim());
      if (Number.isInteger(pid) && cpuSeconds(pid) !== undefined) out[node] = pid;
    } catch {
      // not a kit network, or not on this host
    }
  }
  return out;
}

/** CPU seconds used by each named process between `start()` and `stop()`; `client` is this process. */
export function cpuMeter(pids: Record<string, number | undefined>): { stop(): Record<string, number> } {
  const first: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const s = pid === undefined ? undefined : cpuSeconds(pid);
    if (s !== undefined) first[name] = s;
  }
  const c0 = process.cpuUsage();
  return {
    stop: () => {
      const out: Record<string, number> = {};
      for (const [name, s0] of Object.entries(first)) {
        const s1 = cpuSeconds(pids[name] as number);
        if (s1 !== undefined) out[name] = s1 - s0;
      }
      const c = process.cpuUsage(c0);
      out.client = (c.user + c.system) / 1e6;
      return out;
    },
  };
}
