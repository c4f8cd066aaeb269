/** Metadata key under which `@ScheduledCommand(name)` stores a class's stable name. */
export const SCHEDULED_COMMAND_METADATA = 'scheduled-commands:command';

/** Name of the polling interval in the host's `SchedulerRegistry` (when the host imports `ScheduleModule`). */
export const SCHEDULED_COMMANDS_POLLER_INTERVAL = 'scheduled-commands:poller';

/** Injection token of the resolved (defaults merged, validated) module options. */
export const SCHEDULED_COMMANDS_RESOLVED_OPTIONS = Symbol('SCHEDULED_COMMANDS_RESOLVED_OPTIONS');

/** Table used by the TypeORM store. */
export const SCHEDULED_COMMANDS_TABLE = 'scheduled_commands';

/** Table of the recurring schedules used by the TypeORM store. */
export const RECURRING_SCHEDULES_TABLE = 'scheduled_commands_recurring';
