import { SetMetadata } from '@nestjs/common';
import { SCHEDULED_COMMAND_METADATA } from '../scheduled-commands.constants.js';
import { InvalidModuleOptionsError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';

/** Longest allowed command name. */
export const MAX_COMMAND_NAME_LENGTH = 200;

/**
 * Registers a command class for scheduling under a stable `name`. The name, never the class name, is
 * what the database stores, so classes can be renamed or moved freely; keep the name stable.
 *
 * Command classes with a `@CommandHandler` in the application are discovered automatically; others
 * can be listed in the module's `commands` option.
 *
 * @example
 * ```ts
 * @ScheduledCommand('send-email')
 * export class SendEmailCommand extends Command<void> {
 *   constructor(readonly to: string, readonly subject: string) { super(); }
 * }
 * ```
 * @throws InvalidModuleOptionsError when the name is empty or longer than 200 characters.
 */
export function ScheduledCommand(name: string): ClassDecorator {
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_COMMAND_NAME_LENGTH) {
    throw new InvalidModuleOptionsError('name', messages.invalidCommandName(name));
  }
  return SetMetadata(SCHEDULED_COMMAND_METADATA, name) as ClassDecorator;
}

/**
 * The name a class was registered under with `@ScheduledCommand`, or `undefined`. Only the class's own
 * decoration counts: a subclass of a registered class must be registered under its own name.
 */
export function getScheduledCommandName(type: Function): string | undefined {
  return Reflect.hasOwnMetadata(SCHEDULED_COMMAND_METADATA, type)
    ? (Reflect.getOwnMetadata(SCHEDULED_COMMAND_METADATA, type) as string)
    : undefined;
}
