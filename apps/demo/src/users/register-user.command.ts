import { Command } from '@nestjs/cqrs';
import type { ScheduleOptions } from 'nestjs-scheduled-commands';
import type { User } from './user.entity.js';

/** What {@link RegisterUserCommand} returns. */
export interface RegisteredUser {
  readonly user: User;
  /** `false` when a user with this email already existed (registering is idempotent by email). */
  readonly created: boolean;
  /** The welcome email's scheduled command, when `welcomeEmail` was given. */
  readonly welcomeEmailId?: string;
}

/**
 * Registers a user. An ordinary CQRS command: it is run directly through `CommandBus`, never
 * scheduled, so it needs no `@ScheduledCommand` name.
 *
 * With `welcomeEmail` (schedule options, possibly empty) the user's welcome email is scheduled in the
 * same database transaction as the user row: both are stored, or neither is.
 */
export class RegisterUserCommand extends Command<RegisteredUser> {
  constructor(
    readonly email: string,
    readonly name: string,
    readonly welcomeEmail?: Omit<ScheduleOptions, 'manager'>,
  ) {
    super();
  }
}
