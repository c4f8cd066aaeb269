import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgAvailable } from '../support/postgres.js';
import { PgCommandTable } from './support/inspect.js';
import { until, type StatsMessage } from './support/processes.js';
import { ownPgServer, useFaultScenario } from './support/scenario.js';

const COMMANDS = 1_000;

/** How many effect rows each command left: the number of commands with none, and with more than one. */
async function countEffects(
  url: string,
): Promise<{ rows: number; missing: number; duplicated: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string; seq: number }>(
      `SELECT s.seq, count(e.seq) AS n FROM generate_series(0, $1 - 1) AS s(seq)
       LEFT JOIN fault_effects e ON e.seq = s.seq GROUP BY s.seq`,
      [COMMANDS],
    );
    const counts = rows.map((r) => Number(r.n));
    return {
      rows: counts.reduce((a, b) => a + b, 0),
      missing: counts.filter((n) => n === 0).length,
      duplicated: counts.filter((n) => n > 1).length,
    };
  } finally {
    await client.end();
  }
}

/** Creates the effects table, and empties it and the commands table (the scenario's two runs share the database). */
async function prepareTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS fault_effects (command_id text NOT NULL, seq integer NOT NULL, worker text NOT NULL)',
    );
    await client.query('TRUNCATE fault_effects, scheduled_commands');
  } finally {
    await client.end();
  }
}

describe.skipIf(!pgAvailable())(
  'effects written in the handler transaction: a killed worker and a PostgreSQL restart (PostgreSQL)',
  () => {
    // Its own server: the scenario restarts it.
    const scenario = useFaultScenario('transactional-effects', ownPgServer);

    /**
     * Two workers; one is SIGKILLed while it holds commands whose effect row is already inserted
     * (the handler waits after the insert); a replacement starts; PostgreSQL restarts; every command
     * completes. Returns the effect rows per command.
     */
    const run = async (effects: 'plain' | 'transaction') => {
      const server = scenario.database;
      const cluster = await scenario.startCluster({ kind: 'postgres', url: server.url });
      const table = scenario.track(new PgCommandTable(server.url));
      await prepareTables(server.url);
      // A short lease: the killed worker's commands are taken over quickly; the restart is shorter.
      const settings = { concurrency: 10, leaseMs: 3_000, pollMs: 200, handlerMs: 30, effects };
      // The victim kills itself in its 105th handler once its effect row is written: it always holds
      // commands then, and that one's effect is committed (plain) or in its open transaction.
      const [victim, survivor] = await Promise.all([
        cluster.startWorker(`victim-${effects}`, { ...settings, killAtRun: 105 }),
        cluster.startWorker(`survivor-${effects}`, settings),
      ]);
      await cluster.schedule(COMMANDS);
      await victim.selfKilled(60_000);
      const inFlight = (await table.heldBy(victim.name)).length;
      const replacement = await cluster.startWorker(`replacement-${effects}`, settings);
      // A replacement whose connection pool is already in use when the server goes away.
      await replacement.waitFor(
        (m): m is StatsMessage => m.event === 'stats' && m.started >= 50,
        60_000,
        'the replacement to start 50 runs',
      );
      await until(
        'a third of the commands to complete',
        async () => ((await table.statusCounts()).completed ?? 0) >= COMMANDS / 3,
        60_000,
        () => cluster.assertNoCrash(),
        20,
      );
      const restartStarted = Date.now();
      await server.restart();
      await until(
        `${COMMANDS} completed commands`,
        async () => ((await table.statusCounts()).completed ?? 0) === COMMANDS,
        90_000,
        () => cluster.assertNoCrash(),
      );
      // The restart really hit the running workers: they noticed (and logged) their connections dropping.
      const restartErrors = [survivor, replacement].reduce(
        (n, w) => n + w.problemLines(restartStarted).length,
        0,
      );
      await cluster.stopAll();
      const counts = await countEffects(server.url);
      console.log(
        `[fault] effects ${effects === 'transaction' ? 'in context.transaction()' : 'plain (own commit)'}: ` +
          `${COMMANDS} commands, killed worker held ${inFlight}, then a PostgreSQL restart: ` +
          `${counts.rows} effect rows, ${counts.duplicated} commands with duplicates, ${counts.missing} missing`,
      );
      return { ...counts, inFlight, restartErrors };
    };

    it('with context.transaction(): exactly one effect row per command (0 duplicates, 0 missing)', async () => {
      const counts = await run('transaction');
      expect(
        counts.inFlight,
        'the kill must hit the victim while it holds commands',
      ).toBeGreaterThan(0);
      expect(counts.restartErrors, 'the restart must hit the workers').toBeGreaterThan(0);
      expect(counts).toMatchObject({ rows: COMMANDS, duplicated: 0, missing: 0 });
    }, 240_000);

    it('with plain handlers, for comparison: at-least-once, the killed runs leave duplicates', async () => {
      const counts = await run('plain');
      expect(counts.inFlight).toBeGreaterThan(0);
      expect(counts.missing).toBe(0);
      expect(counts.duplicated).toBeGreaterThan(0);
    }, 240_000);
  },
);
