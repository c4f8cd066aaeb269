/** Builds error messages: every message names the field or the thing, and the value. */

const show = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

export const messages = {
  invalidOption: (field: string, value: unknown, expected: string) =>
    `Invalid schedule option "${field}": ${show(value)} (expected ${expected}).`,
  exclusiveOptions: (a: string, b: string) =>
    `Invalid schedule options: "${a}" and "${b}" cannot both be set; give one of them.`,
  invalidModuleOption: (field: string, value: unknown, expected: string) =>
    `Invalid ScheduledCommandsModule option "${field}": ${show(value)} (expected ${expected}).`,
  unregisteredCommand: (className: string) =>
    `Cannot schedule ${className}: the class is not registered. Decorate it with @ScheduledCommand('a-stable-name').`,
  notACommand: (value: unknown) =>
    `Cannot schedule ${show(value)}: expected an instance of a class decorated with @ScheduledCommand(name).`,
  invalidCommandName: (name: unknown) =>
    `Invalid @ScheduledCommand name ${show(name)}: expected a non-empty string of at most 200 characters.`,
  duplicateCommandName: (name: string, first: string, second: string) =>
    `@ScheduledCommand name "${name}" is used by both ${first} and ${second}; names must be unique.`,
  unserializable: (commandType: string, path: string, reason: string) =>
    `Cannot store command "${commandType}": ${path} ${reason}.`,
  unknownCommandType: (commandType: string) =>
    `No class is registered under the command name "${commandType}" in this application; it can never run here.`,
  corruptPayload: (commandType: string, reason: string) =>
    `The stored payload of command "${commandType}" cannot be read: ${reason}.`,
  unserializableResult: (commandType: string, reason: string) =>
    `The result of command "${commandType}" cannot be stored as JSON: ${reason}.`,
  invalidId: (id: unknown) => `Invalid scheduled command id ${show(id)}: expected a UUID string.`,
  invalidFilter: (field: string, value: unknown, expected: string) =>
    `Invalid filter "${field}": ${show(value)} (expected ${expected}).`,
  commandTimeout: (ms: number) => `The command did not finish within commandTimeout (${ms} ms).`,
  asyncContextDisabled: () =>
    'getScheduledCommandContext() without an argument needs the ambient context, which is off: pass the ' +
    'command the handler received (getScheduledCommandContext(command)), or set asyncContext: true in ' +
    'ScheduledCommandsModule.forRoot().',
  leaseLost: (workerId: string) =>
    `The lease of worker ${workerId} ran out while the command was running (the instance stopped or lost the database).`,
  unsupportedServerVersion: (found: string, required: string) =>
    `The database server is ${found}; the TypeORM store needs ${required} (for FOR UPDATE SKIP LOCKED and JSON_TABLE).`,
  unsafeBinlogFormat: (format: string) =>
    `The database server writes a binary log with binlog_format=${format}, under which InnoDB refuses writes at READ COMMITTED, the isolation level of the store's transactions: set binlog_format=ROW (or MIXED).`,
  transactionsNotSupported: (store: string) =>
    `The store ${store} cannot join a transaction (it has no joinTransaction()); schedule without ` +
    '"manager", or use a store that supports transactions (the TypeORM store does).',
  foreignTransaction: (reason: string) =>
    `The "manager" option cannot be used: ${reason}. Pass the EntityManager of a transaction on the ` +
    "store's own DataSource.",
  transactionNotActive: (reason: string) =>
    `The "manager" option cannot be used: ${reason}. Pass the manager given to ` +
    'dataSource.transaction(async (manager) => ...) (or queryRunner.manager) while that transaction runs.',
  transactionLeaseLost: (commandId: string, attempt: number) =>
    `Command ${commandId} (attempt ${attempt}) is no longer held by this run (its lease ran out or it ` +
    'was taken over): its transaction was rolled back, and its completion was not written.',
  noTransactionSupport: (store: string) =>
    `The store ${store} cannot run a handler's transaction (it has no withTransaction()); ` +
    'context.transaction() needs the TypeORM store.',
  invalidRecurring: (field: string, value: unknown, expected: string) =>
    `Invalid recurring schedule option "${field}": ${show(value)} (expected ${expected}).`,
  recurringNotSupported: (store: string) =>
    `${store} does not support recurring schedules; use the TypeORM or in-memory store, or implement the recurring methods of ScheduledCommandStore.`,
  mysqlTableNotFromMigration: (table: string, found: string) =>
    `The table ${table} ${found}; on MySQL/MariaDB create it with the shipped migration (scheduledCommandsMigrations('mysql')): an InnoDB table in utf8mb4_bin with the generated column idempotency_live under its unique index. TypeORM's synchronize cannot make it.`,
};
