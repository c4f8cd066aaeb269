import { Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import { CommandRegistry } from './command-registry.js';
import { getScheduledCommandName } from './scheduled-command.decorator.js';

/**
 * `@nestjs/cqrs` stores a handler's command class under this metadata key on the handler class. The
 * package exports neither the key nor a way to list handlers (its `ExplorerService` and constants are
 * internal), so the key is repeated here; `command-explorer.spec.ts` fails when `@CommandHandler`
 * stops writing it.
 */
export const COMMAND_HANDLER_METADATA = '__commandHandler__';

/**
 * Fills the {@link CommandRegistry} at start-up: every command class that has a `@CommandHandler` in
 * the application and is decorated with `@ScheduledCommand`, plus the classes listed in the `commands`
 * option. Two classes with one name fail the start-up with `DuplicateCommandNameError`.
 */
@Injectable()
export class CommandExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly registry: CommandRegistry,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
  ) {}

  onModuleInit(): void {
    for (const type of this.options.commands) this.registry.register(type);
    for (const wrapper of this.discovery.getProviders()) {
      const handler = wrapper.metatype as Function | null | undefined;
      if (typeof handler !== 'function') continue;
      const command = Reflect.getMetadata(COMMAND_HANDLER_METADATA, handler) as
        Type<object> | undefined;
      if (typeof command === 'function' && getScheduledCommandName(command) !== undefined) {
        this.registry.register(command);
      }
    }
  }
}
