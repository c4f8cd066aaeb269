import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown by `CommandScheduler` when a `manager` (or an ambient transaction) is given but the configured
 * store cannot join the caller's transaction (it has no `joinTransaction`). Nothing is stored: the
 * library never falls back to writing outside the transaction.
 */
export class TransactionsNotSupportedError extends ScheduledCommandsError {}
