import { Injectable, Logger, type Type } from '@nestjs/common';
import { DuplicateCommandNameError, UnregisteredCommandError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';
import { getScheduledCommandName } from './scheduled-command.decorator.js';

/**
 * The application's map between stable command names and command classes.
 *
 * Filled at start-up (classes handled by a `@CommandHandler`, and the module's `commands` option) and
 * whenever an instance of a decorated class is scheduled. The worker only ever instantiates classes
 * found here: no class is ever looked up from a name read in a database row.
 */
@Injectable()
export class CommandRegistry {
  private readonly logger = new Logger(CommandRegistry.name);
  private readonly byName = new Map<string, Type<object>>();

  /**
   * Registers a class decorated with `@ScheduledCommand`. Registering the same class twice is a no-op.
   * @returns the class's command name.
   * @throws UnregisteredCommandError when the class is not decorated.
   * @throws DuplicateCommandNameError when another class already holds the name.
   */
  register(type: Type<object>): string {
    const name = getScheduledCommandName(type);
    if (name === undefined)
      throw new UnregisteredCommandError(
        messages.unregisteredCommand(type.name || 'anonymous class'),
      );
    const existing = this.byName.get(name);
    if (existing === undefined) {
      this.byName.set(name, type);
      this.logger.debug(`Registered scheduled command "${name}" (${type.name})`);
    } else if (existing !== type) {
      throw new DuplicateCommandNameError(
        name,
        messages.duplicateCommandName(name, existing.name, type.name),
      );
    }
    return name;
  }

  /**
   * The name of a command instance's runtime class (not of a base class), registering the class on the way.
   * @throws UnregisteredCommandError when the value is not an instance of a decorated class.
   */
  nameOf(command: unknown): string {
    if (
      command === null ||
      typeof command !== 'object' ||
      typeof command.constructor !== 'function'
    ) {
      throw new UnregisteredCommandError(messages.notACommand(command));
    }
    return this.register(command.constructor as Type<object>);
  }

  /** The class registered under `name`, or `undefined`. */
  resolve(name: string): Type<object> | undefined {
    return this.byName.get(name);
  }

  /** Every registered name. */
  names(): string[] {
    return [...this.byName.keys()];
  }
}
