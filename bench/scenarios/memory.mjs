/**
 * Scenario 5 — memory: the worker process's resident set size while many commands run (scenario 1
 * with more commands, one worker process, PostgreSQL): idle before the start, peak, at the end, and
 * along the way.
 */
import { measureThroughput, round } from '../lib/measure.mjs';
import { fmt, printTable } from '../lib/report.mjs';
import { SYSTEMS } from '../lib/systems.mjs';

/** @param {object} ctx `{ serverUrl, quick }` */
export async function memory(ctx) {
  const count = ctx.quick ? 20_000 : 100_000;
  // The peers take long at this size; in quick mode their peak RSS at the smaller size of
  // scenario 1 is in that table.
  const ids = ctx.quick ? ['ours-pg'] : ['ours-pg', 'pgboss', 'graphile', 'graphile-batched'];
  const rows = [];
  for (const id of ids) {
    const system = SYSTEMS[id];
    process.stderr.write(`  memory: ${system.label}, ${fmt(count)} jobs\n`);
    const series = [];
    const result = await measureThroughput(system, ctx.serverUrl, {
      label: 'mem',
      count,
      measureHeap: true,
      nodeArgs: () => ['--expose-gc'],
      onProgress: ([s]) =>
        series.push({
          handled: s.handled,
          rssMb: round(s.rss / 1e6, 0),
          heapUsedMb: round(s.heapUsed / 1e6, 0),
        }),
    });
    const r = result.median;
    // RSS when 25 %, 50 %, 75 % of the commands had started.
    const at = (fraction) => series.find((s) => s.handled >= fraction * count)?.rssMb ?? null;
    rows.push({
      system: id,
      label: system.label,
      count,
      perSecond: r.perSecond,
      idleRssMb: r.idleRssMb[0],
      peakRssMb: r.peakRssMb[0],
      endRssMb: r.endRssMb[0],
      idleHeapMb: r.idleHeapMb?.[0] ?? null,
      endHeapMb: r.endHeapMb?.[0] ?? null,
      quartilesRssMb: [at(0.25), at(0.5), at(0.75)],
      series,
    });
  }
  const table = printTable(
    `5. Memory: worker RSS while ${fmt(count)} commands run (1 worker process, PostgreSQL, MB)`,
    [
      { title: 'system', align: 'left' },
      { title: 'idle' },
      { title: 'at 25 %' },
      { title: 'at 50 %' },
      { title: 'at 75 %' },
      { title: 'peak' },
      { title: 'end' },
      { title: 'heap after GC: idle → end' },
      { title: 'jobs/s' },
    ],
    rows.map((r) => [
      r.label,
      r.idleRssMb,
      ...r.quartilesRssMb.map((v) => v ?? '—'),
      r.peakRssMb,
      r.endRssMb,
      `${fmt(r.idleHeapMb)} → ${fmt(r.endHeapMb)}`,
      fmt(r.perSecond),
    ]),
    [
      'RSS sampled every 20 ms inside the worker process (process.memoryUsage.rss()); "idle" is after boot, before the first command; "at 25 %" when a quarter of the commands had started. "heap after GC" is the V8 heap in use right after a forced full collection (node --expose-gc), before the run and once every command is completed: what the run left behind.',
    ],
  );
  return { name: 'memory', count, rows, table };
}
