/**
 * CPU time of processes from `/proc/<pid>/stat` (Linux): how much the worker processes and the
 * PostgreSQL backends serving them spent during a measurement. Elsewhere every figure is `null`.
 */
import fs from 'node:fs';
import { withClient } from './db.mjs';

// Linux reports utime and stime in clock ticks, 100 per second on every common configuration.
const TICK_MS = 10;

/** CPU milliseconds (user + system) used so far by `pid`, or `null` when unknown. */
export function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/** CPU milliseconds so far of every backend connected to the database of `url` (but this one), by pid. */
export async function backendCpu(url) {
  if (process.platform !== 'linux') return null;
  const pids = await withClient(url, async (c) => {
    const { rows } = await c.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((r) => r.pid);
  });
  return Object.fromEntries(pids.map((pid) => [pid, cpuMs(pid)]).filter(([, ms]) => ms !== null));
}

/** CPU milliseconds used between two `backendCpu` snapshots (backends that appeared count from zero). */
export function cpuBetween(before, after) {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, ms] of Object.entries(after)) total += ms - (before[pid] ?? 0);
  return total;
}
