import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ExecutionLog } from '../shared/execution-log.js';
import { User } from '../users/user.entity.js';
import {
  SendFollowUpEmailCommand,
  SendMarketingEmailCommand,
  SendPromoCodeCommand,
  SendReminderCommand,
  SendWelcomeEmailCommand,
} from './email.commands.js';
import { EmailService } from './email.service.js';

// Plain @CommandHandler classes: the worker sends scheduled commands through CommandBus, so these
// handlers run the same whether a command was scheduled or executed directly.

async function findUser(users: Repository<User>, id: string): Promise<User> {
  const user = await users.findOneBy({ id });
  // Thrown errors make the attempt fail: the command is retried with backoff, then dead-lettered.
  if (!user) throw new Error(`User ${id} does not exist.`);
  return user;
}

/** Handles {@link SendWelcomeEmailCommand}. */
@CommandHandler(SendWelcomeEmailCommand)
export class SendWelcomeEmailHandler implements ICommandHandler<SendWelcomeEmailCommand> {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly email: EmailService,
    private readonly log: ExecutionLog,
  ) {}

  async execute(command: SendWelcomeEmailCommand): Promise<void> {
    this.log.record('send-welcome-email', `welcome email to ${command.email}`);
    const user = await findUser(this.users, command.userId);
    await this.email.send(command.email, `Welcome, ${user.name}!`, 'Thanks for signing up.');
  }
}

/** Handles {@link SendFollowUpEmailCommand}. */
@CommandHandler(SendFollowUpEmailCommand)
export class SendFollowUpEmailHandler implements ICommandHandler<SendFollowUpEmailCommand> {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly email: EmailService,
    private readonly log: ExecutionLog,
  ) {}

  async execute(command: SendFollowUpEmailCommand): Promise<void> {
    this.log.record('send-follow-up-email', `follow-up email to user ${command.userId}`);
    const user = await findUser(this.users, command.userId);
    await this.email.send(
      user.email,
      `How is it going, ${user.name}?`,
      'Tell us about your first days.',
    );
  }
}

/** Handles {@link SendReminderCommand}. */
@CommandHandler(SendReminderCommand)
export class SendReminderHandler implements ICommandHandler<SendReminderCommand> {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly email: EmailService,
    private readonly log: ExecutionLog,
  ) {}

  async execute(command: SendReminderCommand): Promise<void> {
    this.log.record('send-reminder', `reminder "${command.text}"`);
    const user = await findUser(this.users, command.userId);
    await this.email.send(user.email, 'Reminder', command.text);
  }
}

/** Handles {@link SendMarketingEmailCommand}. */
@CommandHandler(SendMarketingEmailCommand)
export class SendMarketingEmailHandler implements ICommandHandler<SendMarketingEmailCommand> {
  constructor(
    private readonly email: EmailService,
    private readonly log: ExecutionLog,
  ) {}

  async execute(command: SendMarketingEmailCommand): Promise<void> {
    this.log.record('send-marketing-email', `marketing email "${command.campaign}" (priority 1)`);
    await this.email.send(command.recipient, `News: ${command.campaign}`, 'Our latest offers.');
  }
}

/** Handles {@link SendPromoCodeCommand}. */
@CommandHandler(SendPromoCodeCommand)
export class SendPromoCodeHandler implements ICommandHandler<SendPromoCodeCommand> {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly email: EmailService,
    private readonly log: ExecutionLog,
  ) {}

  async execute(command: SendPromoCodeCommand): Promise<void> {
    this.log.record('send-promo-code', `promo code ${command.code}`);
    const user = await findUser(this.users, command.userId);
    await this.email.send(user.email, 'A gift for you', `Use the code ${command.code}.`);
  }
}
