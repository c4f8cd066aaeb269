import { BadRequestException, Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ScheduleOptions } from 'nestjs-scheduled-commands';
import { RegisterUserCommand } from '../users/register-user.command.js';

/** Body of `POST /emails`. Durations are milliseconds; `scheduledFor` is an ISO 8601 date-time. */
export interface ScheduleWelcomeEmailBody {
  email?: unknown;
  /** @default the part of the email before "@" */
  name?: unknown;
  delay?: number;
  scheduledFor?: string;
  priority?: number;
  maxRetries?: number;
  expiresAfter?: number;
  correlationId?: string;
  metadata?: Record<string, string>;
  /** @default `welcome-email:<userId>` (the command's own key) */
  idempotencyKey?: string;
}

/** Result of `POST /emails`. */
export interface ScheduledWelcomeEmail {
  /** The scheduled command's id (see `GET /admin/scheduled-commands/:id`). */
  readonly id: string;
  readonly userId: string;
}

/**
 * `POST /emails`: registers the user (or finds them by email) and schedules their welcome email, both
 * in one transaction: an invalid option stores neither.
 * Invalid schedule options are answered with 400 by `ScheduledCommandsExceptionFilter`.
 */
@Controller('emails')
export class EmailsController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async scheduleWelcomeEmail(
    @Body() body: ScheduleWelcomeEmailBody = {},
  ): Promise<ScheduledWelcomeEmail> {
    const { email, name, scheduledFor, ...rest } = body;
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw new BadRequestException('"email" must be an email address.');
    }
    if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) {
      throw new BadRequestException('"name" must be a non-empty string.');
    }
    const options: ScheduleOptions = {
      ...rest,
      // JSON has no dates: anything other than a string is passed on as is, and the scheduler rejects it.
      ...(scheduledFor !== undefined && {
        scheduledFor: (typeof scheduledFor === 'string'
          ? new Date(scheduledFor)
          : scheduledFor) as Date,
      }),
    };
    // The user row and the welcome email are stored in one transaction (see RegisterUserHandler).
    const { user, welcomeEmailId } = await this.commandBus.execute(
      new RegisterUserCommand(email, name ?? email.split('@')[0], options),
    );
    return { id: welcomeEmailId!, userId: user.id };
  }
}
