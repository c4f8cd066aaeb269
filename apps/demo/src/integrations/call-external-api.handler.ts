import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { getScheduledCommandContext } from 'nestjs-scheduled-commands';
import { ExecutionLog } from '../shared/execution-log.js';
import { CallExternalApiCommand } from './call-external-api.command.js';
import { ExternalApiService } from './external-api.service.js';

/** Handles {@link CallExternalApiCommand}; fails (throws) while the API is down. */
@CommandHandler(CallExternalApiCommand)
export class CallExternalApiHandler implements ICommandHandler<CallExternalApiCommand> {
  private readonly logger = new Logger(CallExternalApiHandler.name);

  constructor(
    private readonly api: ExternalApiService,
    private readonly log: ExecutionLog,
  ) {}

  async execute(command: CallExternalApiCommand): Promise<{ status: number; endpoint: string }> {
    this.log.record('call-external-api', `call to ${command.endpoint}`);
    const context = getScheduledCommandContext(command);
    if (context) {
      this.logger.log(
        `Calling ${command.endpoint}: attempt ${context.attempt} (retries allowed: ${context.maxRetries}).`,
      );
    }
    return this.api.call(command.endpoint);
  }
}
