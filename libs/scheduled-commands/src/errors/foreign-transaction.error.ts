import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown by `CommandScheduler` when the `manager` given is not a TypeORM `EntityManager` of the store's
 * own `DataSource` (for example one of another database). Nothing is stored or changed.
 */
export class ForeignTransactionError extends ScheduledCommandsError {}
