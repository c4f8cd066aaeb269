import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown at start-up when the database server cannot give the store's guarantees: a server version
 * that is too old, or a setting under which the store's transactions cannot run. `setting` names
 * what was checked (`version`, `binlog_format`, ...) and `found` what the server reported.
 */
export class UnsupportedDatabaseError extends ScheduledCommandsError {
  constructor(
    readonly setting: string,
    readonly found: string,
    message: string,
  ) {
    super(message);
  }
}
