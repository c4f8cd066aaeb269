/**
 * The table of the dashboard scenario: `count` valid entries written straight into
 * `scheduled_commands` with `generate_series`, created over the past week (UUIDv7 ids of their
 * creation time), in a mix of statuses, command types, correlation ids and idempotency keys.
 */

/** Share of the rows per status, in thousandths, in the order the fill assigns them. */
export const STATUS_MIX = [
  ['processing', 2],
  ['pending', 20],
  ['failed', 20],
  ['cancelled', 10],
  ['expired', 5],
  ['completed', 943],
];

/** Command types: eight common ones in turn, and `audit-export` on 1 row in 2,000. */
export const COMMON_TYPES = [
  'send-email',
  'charge-card',
  'sync-crm',
  'resize-image',
  'send-sms',
  'index-document',
  'notify-webhook',
  'close-invoice',
];
export const RARE_TYPE = 'audit-export';

const WEEK = 7 * 86_400_000;
/** Rows per statement. */
const CHUNK = 200_000;

/** `status` of row `i`, by the thousandth `(i * 7919) % 1000`. */
function statusCase() {
  let from = 0;
  const arms = STATUS_MIX.slice(0, -1).map(([status, share]) => {
    from += share;
    return `WHEN (g.i * 7919) % 1000 < ${from} THEN '${status}'`;
  });
  return `CASE ${arms.join(' ')} ELSE '${STATUS_MIX.at(-1)[0]}' END`;
}

const FILL_SQL = `
  WITH base AS (SELECT FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint AS now_ms),
  g AS (
    SELECT g.i, base.now_ms,
           base.now_ms - ${WEEK} + (g.i * ${WEEK}::bigint) / $3::bigint AS created,
           ${statusCase()} AS status,
           md5(g.i::text) AS r
    FROM base, generate_series($1::bigint, $2::bigint) AS g(i))
  INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
    retry_count, max_retries, attempts, expires_at, correlation_id, metadata, idempotency_key,
    created_at, started_at, completed_at, error_message, result_payload, locked_by, locked_until)
  SELECT substr(lpad(to_hex(created), 12, '0'), 1, 8) || '-' || substr(lpad(to_hex(created), 12, '0'), 9, 4)
           || '-7' || substr(r, 1, 3) || '-' || substr('89ab', (1 + i % 4)::int, 1) || substr(r, 4, 3)
           || '-' || substr(r, 7, 12),
         CASE WHEN i % 2000 = 7 THEN '${RARE_TYPE}'
              ELSE (ARRAY['${COMMON_TYPES.join("','")}'])[1 + i % ${COMMON_TYPES.length}] END,
         '{"seq":' || i || '}', status,
         -- Pending: due up to two days after creation (the older ones are overdue).
         created + CASE WHEN status = 'pending' THEN (i % 48) * 3600000 ELSE 0 END,
         0, CASE WHEN status = 'failed' THEN 3 ELSE 0 END, 3,
         CASE WHEN status IN ('pending', 'processing') THEN 0 WHEN status = 'failed' THEN 4 ELSE 1 END,
         CASE WHEN status = 'expired' THEN created + 60000 END,
         CASE WHEN i % 10 = 0 THEN 'order-' || (i / 30) END,
         CASE WHEN i % 3 = 0 THEN '{"tenant":"t' || (i % 7) || '"}' END,
         CASE WHEN i % 5 = 0 THEN 'key-' || i END,
         created,
         CASE WHEN status IN ('pending', 'cancelled', 'expired') THEN NULL ELSE created + 500 END,
         CASE WHEN status IN ('pending', 'processing') THEN NULL ELSE created + 1000 END,
         CASE WHEN status = 'failed' THEN 'Error: upstream answered 503' END,
         CASE WHEN status = 'completed' THEN '{"ok":true}' END,
         CASE WHEN status = 'processing' THEN 'bench-dashboard' END,
         CASE WHEN status = 'processing' THEN now_ms + 3600000 END
  FROM g`;

/** Inserts rows `1..count` (see the module comment) on the `pg` client, then `VACUUM ANALYZE`s. */
export async function fillDashboardTable(client, count) {
  for (let from = 1; from <= count; from += CHUNK) {
    await client.query(FILL_SQL, [from, Math.min(count, from + CHUNK - 1), count]);
  }
  await client.query('VACUUM (ANALYZE) scheduled_commands');
}
