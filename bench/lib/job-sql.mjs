/**
 * Jobs written straight into each system's table with one SQL statement per chunk, bypassing its
 * client: the rows each client's bulk insert writes, but inside a transaction the runner controls.
 * Used for the backlog (millions of future jobs) and for the warm throughput round (jobs due now,
 * inserted inside the start gate's transaction, so that they appear all at once on commit).
 */
import crypto from 'node:crypto';
import Database from 'better-sqlite3';

/**
 * Per PostgreSQL system: one statement inserting jobs `$1..$2`, the first due `$4` ms from now and
 * the next ones every `$5` ms, with payload `{ "seq": $6 + i }`. Ours: job i's UUIDv7 carries the
 * time `now - $3 + i` ms (the peers ignore `$3`).
 */
const INSERT_SQL = {
  // Valid rows as the scheduler writes them: UUIDv7 ids (time-ordered, increasing with i, all
  // older than any id the scheduler makes later), the registered command name, the JSON payload of
  // the command's fields.
  'ours-pg': `WITH base AS (SELECT FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint AS ms)
      INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
        retry_count, max_retries, attempts, created_at)
      SELECT substr(x.h, 1, 8) || '-' || substr(x.h, 9, 4) || '-7' || substr(x.r, 1, 3) || '-'
               || substr('89ab', (1 + g.i % 4)::int, 1) || substr(x.r, 4, 3) || '-' || substr(x.r, 7, 12),
             'bench-noop', '{"seq":' || ($6::bigint + g.i) || '}', 'pending',
             base.ms + $4::bigint + g.i * $5::bigint, 0, 0, 3, 0, base.ms
      FROM base, generate_series($1::bigint, $2::bigint) AS g(i),
        LATERAL (SELECT lpad(to_hex(base.ms - $3::bigint + g.i), 12, '0') AS h,
                        md5(g.i::text || random()::text) AS r) x`,
  // What pg-boss's insert() writes for a job with a start time; the other columns take their defaults.
  pgboss: `INSERT INTO pgboss.job (name, data, start_after, keep_until)
      SELECT 'bench-noop', jsonb_build_object('seq', $6::bigint + g.i), t.at, t.at + interval '14 days'
      FROM generate_series($1::bigint, $2::bigint) AS g(i),
        LATERAL (SELECT now() + ($4::bigint + g.i * $5::bigint) * interval '1 millisecond' AS at) t
      WHERE $3::bigint IS NOT NULL`,
  // Through graphile-worker's own SQL API.
  graphile: `SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
        SELECT ROW('bench_noop', json_build_object('seq', $6::bigint + g.i), NULL,
                   now() + ($4::bigint + g.i * $5::bigint) * interval '1 millisecond',
                   NULL, NULL, NULL, NULL)::graphile_worker.job_spec
        FROM generate_series($1::bigint, $2::bigint) AS g(i) WHERE $3::bigint IS NOT NULL))`,
};
INSERT_SQL['graphile-batched'] = INSERT_SQL.graphile;

/** Rows per statement. */
const CHUNK = 250_000;

/**
 * Inserts `count` jobs for `system` on the `pg` client `client` (which may be inside a transaction):
 * due `firstDueMs` from now, then one every `spacingMs`, numbered from `startSeq`. Ours: the ids'
 * times start `idsBeforeNowMs` before now, one millisecond apart (the default: all in the past).
 */
export async function insertJobsPg(
  client,
  system,
  { count, firstDueMs, spacingMs, startSeq, idsBeforeNowMs = count },
) {
  const sql = INSERT_SQL[system.id];
  if (!sql) throw new Error(`no insert statement for ${system.id}`);
  for (let from = 0; from < count; from += CHUNK) {
    await client.query(sql, [
      from + 1,
      Math.min(count, from + CHUNK),
      idsBeforeNowMs,
      firstDueMs,
      spacingMs,
      startSeq,
    ]);
  }
}

/** A UUIDv7 for epoch-ms `ms` (random bits from `crypto`). */
export function uuidv7(ms) {
  const bytes = crypto.randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Inserts `count` jobs due now into our SQLite store at `file`, in one write transaction: they
 * appear at once when it commits. Ids are time-ordered as the scheduler's. Returns the first column
 * of `readSql` as a number, read in the same transaction after the inserts.
 */
export function insertJobsSqlite(file, { count, startSeq, readSql }) {
  const db = new Database(file, { timeout: 5_000 });
  try {
    const insert = db.prepare(
      `INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
         retry_count, max_retries, attempts, created_at)
       VALUES (?, 'bench-noop', ?, 'pending', ?, 0, 0, 3, 0, ?)`,
    );
    return db.transaction(() => {
      const ms = Date.now();
      for (let i = 0; i < count; i++) {
        insert.run(uuidv7(ms - count + i), `{"seq":${startSeq + i}}`, ms, ms);
      }
      return Number(Object.values(db.prepare(readSql).get())[0]);
    })();
  } finally {
    db.close();
  }
}
