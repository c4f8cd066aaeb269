import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown by `getScheduledCommandContext()` called with no argument while no `ScheduledCommandsModule`
 * of the process has `asyncContext: true`. Pass the command the handler received instead
 * (`getScheduledCommandContext(command)`), or set the option.
 */
export class AsyncContextDisabledError extends ScheduledCommandsError {}
