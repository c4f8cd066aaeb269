/**
 * The names this library records under. Spans and the `messaging.*` metrics follow the OpenTelemetry
 * messaging semantic conventions; the rest are this library's own, under `scheduled_commands.*`.
 * Metric attributes are kept to a bounded set (command type, outcome, status): never an id.
 */

/** Instrumentation scope (tracer and meter name). */
export const TELEMETRY_SCOPE = 'nestjs-scheduled-commands';

/** Value of `messaging.system`. */
export const MESSAGING_SYSTEM = 'nestjs_scheduled_commands';

/** Attribute names (semantic conventions first, then ours). */
export const ATTR = Object.freeze({
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  /** Attempt number of a run (1 for the first). */
  attempt: 'scheduled_commands.attempt',
  /** How late the run started, in milliseconds (start time minus due time). */
  lateness: 'scheduled_commands.lateness_ms',
  /** How a run ended: `completed`, `failed`, `timed_out` or `rejected` (can never run). */
  outcome: 'scheduled_commands.outcome',
  /** The name of a recurring schedule (on the span that creates or changes it; never on a metric). */
  recurringName: 'scheduled_commands.recurring_name',
  /** An entry's status (gauges). */
  status: 'scheduled_commands.status',
});

/** Metric names. */
export const METRIC = Object.freeze({
  sent: 'messaging.client.sent.messages',
  consumed: 'messaging.client.consumed.messages',
  processDuration: 'messaging.process.duration',
  lateness: 'scheduled_commands.lateness',
  retries: 'scheduled_commands.retries',
  deadLetters: 'scheduled_commands.dead_letters',
  expired: 'scheduled_commands.expired',
  entries: 'scheduled_commands.entries',
});

/** Outcomes of a run (the `scheduled_commands.outcome` attribute). */
export type RunOutcomeName = 'completed' | 'failed' | 'timed_out' | 'rejected';
