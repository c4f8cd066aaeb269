/**
 * What a table looks like on disk and what (auto)vacuum did to it, from `pg_stat_user_tables` and
 * the relation sizes: printed by the scenarios that age a table (ten million rows, soak).
 */
import { fmt } from './report.mjs';

/**
 * Sizes and counters of `table` (unquoted name in the current schema) on the `pg` client `client`.
 * The statistics collector is flushed first, so the counters include this connection's own writes
 * (PostgreSQL 15+; older servers report them up to a second late).
 */
export async function tableStats(client, table) {
  await client.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const { rows } = await client.query(
    `SELECT pg_relation_size(c.oid) AS table_bytes, pg_indexes_size(c.oid) AS indexes_bytes,
       pg_total_relation_size(c.oid) AS total_bytes,
       s.n_live_tup, s.n_dead_tup, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del,
       s.autovacuum_count, s.autoanalyze_count, s.vacuum_count, s.last_autovacuum, s.last_vacuum,
       (SELECT json_object_agg(i.indexrelname, pg_relation_size(i.indexrelid))
          FROM pg_stat_user_indexes i WHERE i.relid = c.oid) AS index_bytes
     FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`,
    [table],
  );
  if (rows.length === 0) throw new Error(`no table ${table}`);
  const r = rows[0];
  const n = (v) => (v === null ? null : Number(v));
  return {
    tableBytes: n(r.table_bytes),
    indexesBytes: n(r.indexes_bytes),
    totalBytes: n(r.total_bytes),
    indexBytes: Object.fromEntries(Object.entries(r.index_bytes ?? {}).map(([k, v]) => [k, n(v)])),
    liveTuples: n(r.n_live_tup),
    deadTuples: n(r.n_dead_tup),
    inserted: n(r.n_tup_ins),
    updated: n(r.n_tup_upd),
    hotUpdated: n(r.n_tup_hot_upd),
    deleted: n(r.n_tup_del),
    autovacuumCount: n(r.autovacuum_count),
    autoanalyzeCount: n(r.autoanalyze_count),
    vacuumCount: n(r.vacuum_count),
    lastAutovacuum: r.last_autovacuum ? new Date(r.last_autovacuum).toISOString() : null,
  };
}

/** `bytes` in MB with one decimal. */
export const mb = (bytes) => (bytes === null ? '—' : fmt(bytes / 2 ** 20, 1));

/** The counters that changed between two {@link tableStats} samples. */
export function statsDelta(before, after) {
  return {
    inserted: after.inserted - before.inserted,
    updated: after.updated - before.updated,
    hotUpdated: after.hotUpdated - before.hotUpdated,
    deleted: after.deleted - before.deleted,
    autovacuums: after.autovacuumCount - before.autovacuumCount,
    autoanalyzes: after.autoanalyzeCount - before.autoanalyzeCount,
  };
}

/** One line per index: `name size MB`, largest first. */
export function indexSizes(stats) {
  return Object.entries(stats.indexBytes)
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => `${name} ${mb(bytes)} MB`)
    .join(', ');
}
