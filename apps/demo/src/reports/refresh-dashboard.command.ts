import { Logger } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { getScheduledCommandContext, ScheduledCommand } from 'nestjs-scheduled-commands';

/**
 * Refreshes the sales dashboard. Run by the recurring schedule `refresh-dashboard` that the app
 * declares in its module options (every 30 seconds), the durable replacement for an `@Cron` method.
 */
@ScheduledCommand('refresh-dashboard')
export class RefreshDashboardCommand extends Command<void> {}

@CommandHandler(RefreshDashboardCommand)
export class RefreshDashboardHandler implements ICommandHandler<RefreshDashboardCommand> {
  private readonly logger = new Logger(RefreshDashboardHandler.name);

  async execute(command: RefreshDashboardCommand): Promise<void> {
    const context = getScheduledCommandContext(command);
    this.logger.log(`Dashboard refreshed (recurring occurrence ${context?.commandId}).`);
  }
}
