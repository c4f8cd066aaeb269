import { Command } from '@nestjs/cqrs';
import { ScheduledCommand } from 'nestjs-scheduled-commands';

/** Calls a partner API: may fail, so it is scheduled and retried with backoff. */
@ScheduledCommand('call-external-api')
export class CallExternalApiCommand extends Command<{ status: number; endpoint: string }> {
  constructor(readonly endpoint: string) {
    super();
  }
}
