import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown by `CommandScheduler` when the `manager` given is not inside a running transaction: its
 * transaction has already committed or rolled back, its query runner was released, or it never was
 * a transaction's manager (such as `dataSource.manager`). Nothing is stored or changed.
 */
export class TransactionNotActiveError extends ScheduledCommandsError {}
