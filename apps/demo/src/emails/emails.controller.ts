import { BadRequestException, Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { CommandScheduler, type ScheduleOptions } from 'nestjs-scheduled-commands';
import { RegisterUserCommand } from '../users/register-user.command.js';
import { SendWelcomeEmailCommand } from './email.commands.js';

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
 * `POST /emails`: registers the user (or finds them by email) and schedules their welcome email.
 * Invalid schedule options are answered with 400 by `ScheduledCommandsExceptionFilter`.
 */
@Controller('emails')
export class EmailsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly scheduler: CommandScheduler,
  ) {}

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
    const { user } = await this.commandBus.execute(
      new RegisterUserCommand(email, name ?? email.split('@')[0]),
    );
    const options: ScheduleOptions = {
      ...rest,
      // JSON has no dates: anything other than a string is passed on as is, and the scheduler rejects it.
      ...(scheduledFor !== undefined && {
        scheduledFor: (typeof scheduledFor === 'string'
          ? new Date(scheduledFor)
          : scheduledFor) as Date,
      }),
    };
    const id = await this.scheduler.schedule(
      new SendWelcomeEmailCommand(user.id, user.email),
      options,
    );
    return { id, userId: user.id };
  }
}
