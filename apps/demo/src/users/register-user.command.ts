import { Command } from '@nestjs/cqrs';
import type { User } from './user.entity.js';

/** What {@link RegisterUserCommand} returns. */
export interface RegisteredUser {
  readonly user: User;
  /** `false` when a user with this email already existed (registering is idempotent by email). */
  readonly created: boolean;
}

/**
 * Registers a user. An ordinary CQRS command: it is run directly through `CommandBus`, never
 * scheduled, so it needs no `@ScheduledCommand` name.
 */
export class RegisterUserCommand extends Command<RegisteredUser> {
  constructor(
    readonly email: string,
    readonly name: string,
  ) {
    super();
  }
}
