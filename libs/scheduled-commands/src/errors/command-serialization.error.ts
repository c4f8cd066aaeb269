import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown when a command's fields cannot be stored as JSON (BigInt, a cycle, a function, a symbol,
 * a non-finite number, an invalid Date). Nothing is stored. `path` locates the value (`command.items[2].price`).
 */
export class CommandSerializationError extends ScheduledCommandsError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}
