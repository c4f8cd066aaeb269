import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';

/** Rows per status (statuses without rows are absent). */
export type StatusCounts = Record<string, number>;

/**
 * Reads the library's `scheduled_commands` table directly (SQL written here, not the library's
 * store), so the checks do not depend on the code under test.
 */
export interface CommandTable {
  /** Number of rows per status. */
  statusCounts(): Promise<StatusCounts>;
  /** Ids of every row. */
  ids(): Promise<string[]>;
  /** Ids of the `processing` rows whose lease `workerId` holds. */
  heldBy(workerId: string): Promise<string[]>;
  close(): Promise<void>;
}

/** A {@link CommandTable} on a database server, which also sees the server's connections. */
export interface ServerCommandTable extends CommandTable {
  /** Open server connections of the instance whose worker id is `name`. */
  connectionsOf(name: string): Promise<number>;
}

/** {@link CommandTable} on PostgreSQL, plus views of the server's connections. */
export class PgCommandTable implements ServerCommandTable {
  private readonly pool: pg.Pool;

  constructor(url: string) {
    // A pool, not a client: after a server restart it replaces its broken connections.
    this.pool = new pg.Pool({ connectionString: url, max: 2 });
    this.pool.on('error', () => undefined);
  }

  async statusCounts(): Promise<StatusCounts> {
    const { rows } = await this.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM scheduled_commands GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async ids(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM scheduled_commands');
    return rows.map((r) => r.id);
  }

  async heldBy(workerId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM scheduled_commands WHERE status = 'processing' AND locked_by = $1`,
      [workerId],
    );
    return rows.map((r) => r.id);
  }

  /** Open server connections whose `application_name` is `name` (an instance's worker id). */
  async connectionsOf(name: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    return rows[0].n;
  }

  /**
   * `application_name` of every connection to this database whose last statement was a `LISTEN`:
   * the instances' wake-up listeners.
   */
  async listeners(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT application_name AS name FROM pg_stat_activity
       WHERE datname = current_database() AND query ILIKE 'LISTEN%' ORDER BY 1`,
    );
    return rows.map((r) => r.name);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * {@link CommandTable} on MariaDB/MySQL. Every instance connects as a user named after its worker
 * id (see `faultBackends`): the process list shows whose connections are still open.
 */
export class MysqlCommandTable implements ServerCommandTable {
  private readonly pool: mysql.Pool;

  constructor(url: string) {
    // A pool, not a connection: after a server restart it replaces its broken connections.
    this.pool = mysql.createPool({ uri: url, connectionLimit: 2 });
  }

  async statusCounts(): Promise<StatusCounts> {
    const [rows] = await this.pool.query<mysql.RowDataPacket[]>(
      'SELECT status, COUNT(*) AS n FROM scheduled_commands GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status as string, Number(r.n)]));
  }

  async ids(): Promise<string[]> {
    const [rows] = await this.pool.query<mysql.RowDataPacket[]>(
      'SELECT id FROM scheduled_commands',
    );
    return rows.map((r) => r.id as string);
  }

  async heldBy(workerId: string): Promise<string[]> {
    const [rows] = await this.pool.query<mysql.RowDataPacket[]>(
      `SELECT id FROM scheduled_commands WHERE status = 'processing' AND locked_by = ?`,
      [workerId],
    );
    return rows.map((r) => r.id as string);
  }

  /** Open server connections of the user named after the instance (see the class doc). */
  async connectionsOf(name: string): Promise<number> {
    const [rows] = await this.pool.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?',
      [name],
    );
    return Number(rows[0].n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** {@link CommandTable} on a SQLite file shared with the instances. */
export class SqliteCommandTable implements CommandTable {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { fileMustExist: true, timeout: 15_000 });
  }

  async statusCounts(): Promise<StatusCounts> {
    const rows = this.db
      .prepare('SELECT status, count(*) AS n FROM scheduled_commands GROUP BY status')
      .all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async ids(): Promise<string[]> {
    return (this.db.prepare('SELECT id FROM scheduled_commands').all() as { id: string }[]).map(
      (r) => r.id,
    );
  }

  async heldBy(workerId: string): Promise<string[]> {
    const rows = this.db
      .prepare(`SELECT id FROM scheduled_commands WHERE status = 'processing' AND locked_by = ?`)
      .all(workerId) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** One handler run as the instance journaled it. */
export interface RunRecord {
  worker: string;
  id: string;
  seq: number;
  attempt: number;
  /** The handler returned (an `E` line follows the `S` line). */
  finished: boolean;
}

/** Every run journaled by the instances of a scenario (`runs-<worker>.log` files in a directory). */
export class RunJournal {
  /** Runs per command id, in journal order per worker. */
  readonly byId = new Map<string, RunRecord[]>();
  /** Runs started per worker. */
  readonly perWorker = new Map<string, number>();
  total = 0;

  constructor(dir: string) {
    for (const file of readdirSync(dir).sort()) {
      const match = /^runs-(.+)\.log$/.exec(file);
      if (!match) continue;
      const worker = match[1];
      const open = new Map<string, RunRecord>();
      this.perWorker.set(worker, 0);
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        const [kind, id, seq, attempt] = line.split(' ');
        if (kind === 'S') {
          const run: RunRecord = {
            worker,
            id,
            seq: Number(seq),
            attempt: Number(attempt),
            finished: false,
          };
          open.set(id, run);
          this.byId.set(id, [...(this.byId.get(id) ?? []), run]);
          this.perWorker.set(worker, this.perWorker.get(worker)! + 1);
          this.total++;
        } else if (kind === 'E') {
          const run = open.get(id);
          if (run) run.finished = true;
          open.delete(id);
        }
      }
    }
  }

  /** Ids of the commands whose handler started more than once. */
  duplicates(): string[] {
    return [...this.byId].filter(([, runs]) => runs.length > 1).map(([id]) => id);
  }

  /** Ids a worker started (whether or not the handler returned before the process died). */
  startedBy(worker: string): Set<string> {
    const ids = new Set<string>();
    for (const [id, runs] of this.byId) if (runs.some((r) => r.worker === worker)) ids.add(id);
    return ids;
  }

  /** Distinct `seq` values that ran. */
  seqs(): Set<number> {
    const seqs = new Set<number>();
    for (const runs of this.byId.values()) for (const r of runs) seqs.add(r.seq);
    return seqs;
  }

  /** `w1=2500 w2=2490 ...`. */
  describePerWorker(): string {
    return [...this.perWorker].map(([w, n]) => `${w}=${n}`).join(' ');
  }
}

/**
 * The end state the scenarios check: rows per status, number of rows, ids of rows no handler ran
 * (`missing`) and ids the journal has but the table does not (`unknown`).
 */
export async function finalState(
  table: CommandTable,
  journal: RunJournal,
): Promise<{ counts: StatusCounts; rows: number; missing: string[]; unknown: string[] }> {
  const counts = await table.statusCounts();
  const ids = new Set(await table.ids());
  const missing = [...ids].filter((id) => !journal.byId.has(id));
  const unknown = [...journal.byId.keys()].filter((id) => !ids.has(id));
  return { counts, rows: ids.size, missing, unknown };
}
