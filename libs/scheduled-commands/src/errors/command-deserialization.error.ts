import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Raised at run time for a stored command that can never run here: its name is not registered in
 * this application, or its payload cannot be read. The entry is dead-lettered at once (no retries)
 * with this error's message.
 */
export class CommandDeserializationError extends ScheduledCommandsError {}
