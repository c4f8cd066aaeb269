import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module.js';
import {
  SendFollowUpEmailHandler,
  SendMarketingEmailHandler,
  SendPromoCodeHandler,
  SendReminderHandler,
  SendWelcomeEmailHandler,
} from './email.handlers.js';
import { EmailService } from './email.service.js';
import { EmailsController } from './emails.controller.js';

/** Email commands, their handlers, the fake email service and `POST /emails`. */
@Module({
  imports: [UsersModule],
  controllers: [EmailsController],
  providers: [
    EmailService,
    SendWelcomeEmailHandler,
    SendFollowUpEmailHandler,
    SendReminderHandler,
    SendMarketingEmailHandler,
    SendPromoCodeHandler,
  ],
  exports: [EmailService],
})
export class EmailsModule {}
