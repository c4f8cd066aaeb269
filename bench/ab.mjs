#!/usr/bin/env node
/**
 * Interleaved A/B of our throughput between two checkouts of the repository: each run uses the
 * checkout's own benchmark code (`bench/lib/measure.mjs`, `bench/worker.mjs`) and its built library
 * (run `npm run build -w nestjs-scheduled-commands` in both first), on one throw-away PostgreSQL
 * server, each run on a fresh database. Pairs alternate which checkout goes first, so that drift
 * in the machine's load hits both alike. Prints one JSON line per run, then the medians.
 *
 *   node bench/ab.mjs [--pairs=3] [--count=20000] [--processes=1,4] [--system=ours-pg|ours-sqlite] <A> <B>
 *
 * Besides jobs/s it reports CPU time per job of the worker processes and of their PostgreSQL
 * backends (first and warm round) and the claims and completion statements the workers sent. With
 * `--system=ours-sqlite` the runs use a fresh SQLite file each (no server, no CPU figures).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startPostgres } from '../scripts/pg.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const trees = args.filter((a) => !a.startsWith('--')).map((t) => path.resolve(t));
const pairs = Number(option('pairs', '3'));
const count = Number(option('count', '20000'));
const processCounts = option('processes', '1,4').split(',').map(Number);
const systemId = option('system', 'ours-pg');
if (trees.length !== 2 || !(pairs > 0) || !(count > 0) || processCounts.some((n) => !(n > 0))) {
  console.error(
    'usage: node bench/ab.mjs [--pairs=3] [--count=20000] [--processes=1,4] [--system=ours-pg|ours-sqlite] <checkout A> <checkout B>',
  );
  process.exit(2);
}

const load = async (tree) => {
  const url = (file) => pathToFileURL(path.join(tree, 'bench/lib', file)).href;
  return { measure: await import(url('measure.mjs')), systems: await import(url('systems.mjs')) };
};
const code = { [trees[0]]: await load(trees[0]), [trees[1]]: await load(trees[1]) };
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const sum = (counts, kind) => counts?.reduce((s, c) => s + (c[kind] ?? 0), 0) ?? null;

const server =
  systemId === 'ours-pg' ? await startPostgres() : { url: undefined, stop: async () => {} };
const results = [];
try {
  for (let pair = 0; pair < pairs; pair++) {
    for (const processes of processCounts) {
      for (const tree of pair % 2 ? [...trees].reverse() : trees) {
        const { measure, systems } = code[tree];
        const system = systems.SYSTEMS[systemId];
        const store = await systems.freshStore(system, server.url, `ab${processes}`);
        try {
          const r = await measure.runThroughput(system, store, {
            count,
            processes,
            warm: true,
            workerEnv: { BENCH_COUNT_QUERIES: '1' },
          });
          const row = {
            pair,
            tree: path.basename(tree),
            processes,
            jobsPerSecond: r.perSecond,
            cpu: [r.workerCpuUsPerJob, r.databaseCpuUsPerJob],
            warmJobsPerSecond: r.warm.perSecond,
            warmCpu: [r.warm.workerCpuUsPerJob, r.warm.databaseCpuUsPerJob],
            claims: sum(r.queryCounts, 'claim'),
            completions: sum(r.queryCounts, 'complete'),
          };
          results.push(row);
          console.log(JSON.stringify(row));
        } finally {
          await store.close();
        }
      }
    }
  }
} finally {
  await server.stop();
}
console.log(
  '\n| checkout | processes | jobs/s | CPU µs/job | warm jobs/s | warm CPU µs/job | claims |',
);
console.log('| --- | --: | --: | --: | --: | --: | --: |');
for (const processes of processCounts) {
  for (const tree of trees) {
    const rows = results.filter((r) => r.tree === path.basename(tree) && r.processes === processes);
    const m = (f) => median(rows.map(f));
    console.log(
      `| ${path.basename(tree)} | ${processes} | ${m((r) => r.jobsPerSecond)} | ${m((r) => r.cpu[0])} + ${m((r) => r.cpu[1])} | ${m((r) => r.warmJobsPerSecond)} | ${m((r) => r.warmCpu[0])} + ${m((r) => r.warmCpu[1])} | ${m((r) => r.claims)} |`,
    );
  }
}
