import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandScheduler } from 'nestjs-scheduled-commands';
import { DataSource } from 'typeorm';
import { SendWelcomeEmailCommand } from '../emails/email.commands.js';
import { RegisterUserCommand, type RegisteredUser } from './register-user.command.js';
import { User } from './user.entity.js';

/**
 * Creates the user, or returns the existing one with the same email; with `welcomeEmail`, schedules
 * the welcome email in the same transaction. If anything fails (an invalid schedule option, a lost
 * connection), the transaction rolls back: no user without the email, no email without the user.
 */
@CommandHandler(RegisterUserCommand)
export class RegisterUserHandler implements ICommandHandler<RegisterUserCommand> {
  private readonly logger = new Logger(RegisterUserHandler.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly scheduler: CommandScheduler,
  ) {}

  async execute(command: RegisterUserCommand): Promise<RegisteredUser> {
    const registered = await this.dataSource.transaction(async (manager) => {
      const users = manager.getRepository(User);
      const existing = await users.findOneBy({ email: command.email });
      const user =
        existing ?? (await users.save(users.create({ email: command.email, name: command.name })));
      const welcomeEmailId =
        command.welcomeEmail === undefined
          ? undefined
          : await this.scheduler.schedule(new SendWelcomeEmailCommand(user.id, user.email), {
              ...command.welcomeEmail,
              manager,
            });
      return { user, created: existing === null, welcomeEmailId };
    });
    if (registered.created) {
      const { user } = registered;
      this.logger.log(`Registered user ${user.name} <${user.email}> (id ${user.id}).`);
    }
    return registered;
  }
}
