import type { RecurringOptions } from './recurring-options.js';

/**
 * A recurring schedule declared in the module options:
 *
 * ```ts
 * ScheduledCommandsModule.forRoot({
 *   recurring: [{ name: 'nightly-report', command: new BuildReportCommand('daily'), cron: '0 2 * * *', timezone: 'Europe/Paris' }],
 * })
 * ```
 */
export interface RecurringDeclaration extends RecurringOptions {
  /** The schedule's unique name. */
  name: string;
  /** The command every occurrence runs (an instance of a `@ScheduledCommand` class). */
  command: object;
}
