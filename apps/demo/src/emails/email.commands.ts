import { Command } from '@nestjs/cqrs';
import { ScheduledCommand } from 'nestjs-scheduled-commands';

// Each class is registered under a stable name: the name, never the class name, is what the database
// stores, so classes can be renamed or moved without breaking commands already scheduled.

/** Sends the welcome email to a user who just registered. */
@ScheduledCommand('send-welcome-email')
export class SendWelcomeEmailCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly email: string,
  ) {
    super();
  }

  /**
   * Scheduling reads this property when the options give no `idempotencyKey`: while one welcome email
   * for this user is pending or running, scheduling another returns the same entry. (A getter lives on
   * the prototype, so it is not stored with the command's fields.)
   */
  get idempotencyKey(): string {
    return `welcome-email:${this.userId}`;
  }
}

/** Asks a user, some time after registering, how they are getting on. */
@ScheduledCommand('send-follow-up-email')
export class SendFollowUpEmailCommand extends Command<void> {
  constructor(readonly userId: string) {
    super();
  }
}

/** A reminder for a user. */
@ScheduledCommand('send-reminder')
export class SendReminderCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly text: string,
  ) {
    super();
  }
}

/** A low-priority marketing email. */
@ScheduledCommand('send-marketing-email')
export class SendMarketingEmailCommand extends Command<void> {
  constructor(
    readonly recipient: string,
    readonly campaign: string,
  ) {
    super();
  }
}

/** A promotion code that is only worth sending while the promotion lasts. */
@ScheduledCommand('send-promo-code')
export class SendPromoCodeCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly code: string,
  ) {
    super();
  }
}
