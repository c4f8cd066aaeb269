import { ScheduledCommandsError } from './scheduled-commands.error.js';

/** Thrown when scheduling an object whose class is not decorated with `@ScheduledCommand(name)`. Nothing is stored. */
export class UnregisteredCommandError extends ScheduledCommandsError {}
