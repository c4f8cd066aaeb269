import { Module } from '@nestjs/common';
import { Command, CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { ScheduledCommandsModule } from '../scheduled-commands.module.js';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import { COMMAND_HANDLER_METADATA } from './command-explorer.js';
import { CommandRegistry } from './command-registry.js';
import { ScheduledCommand } from './scheduled-command.decorator.js';

@ScheduledCommand('explorer-spec:ping')
class PingCommand extends Command<void> {}

@CommandHandler(PingCommand)
class PingHandler implements ICommandHandler<PingCommand> {
  async execute(): Promise<void> {}
}

/** Has a handler but no `@ScheduledCommand`: not registered. */
class PlainCommand extends Command<void> {}

@CommandHandler(PlainCommand)
class PlainHandler implements ICommandHandler<PlainCommand> {
  async execute(): Promise<void> {}
}

describe('CommandExplorer', () => {
  it("reads the metadata key @nestjs/cqrs's @CommandHandler writes (fails when cqrs renames it)", () => {
    expect(
      Reflect.getMetadata(COMMAND_HANDLER_METADATA, PingHandler),
      `@CommandHandler no longer stores the command under "${COMMAND_HANDLER_METADATA}": ` +
        'update COMMAND_HANDLER_METADATA in command-explorer.ts to the key @nestjs/cqrs uses now',
    ).toBe(PingCommand);
  });

  it('registers every @ScheduledCommand class that has a @CommandHandler in the app', async () => {
    @Module({
      imports: [
        CqrsModule.forRoot(),
        ScheduledCommandsModule.forRoot({
          store: new InMemoryScheduledCommandStore(),
          enabled: false,
        }),
      ],
      providers: [PingHandler, PlainHandler],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    moduleRef.useLogger(['error']);
    const app = await moduleRef.createNestApplication().init();
    try {
      const registry = app.get(CommandRegistry);
      expect(registry.resolve('explorer-spec:ping')).toBe(PingCommand);
      expect(registry.names()).toEqual(['explorer-spec:ping']);
    } finally {
      await app.close();
    }
  });
});
