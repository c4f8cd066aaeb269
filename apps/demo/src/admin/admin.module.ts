import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { RecurringAdminController } from './recurring-admin.controller.js';
import { ScheduledCommandEventsHandler } from './scheduled-command-events.handler.js';
import { ScheduledCommandsAdminController } from './scheduled-commands-admin.controller.js';
import { ScheduledCommandsExceptionFilter } from './scheduled-commands-exception.filter.js';

/** The admin API over scheduled commands, the 400 mapping of library errors, and the event log. */
@Module({
  controllers: [ScheduledCommandsAdminController, RecurringAdminController],
  providers: [
    ScheduledCommandEventsHandler,
    { provide: APP_FILTER, useClass: ScheduledCommandsExceptionFilter },
  ],
})
export class AdminModule {}
