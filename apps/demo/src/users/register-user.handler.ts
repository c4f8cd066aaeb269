import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { RegisterUserCommand, type RegisteredUser } from './register-user.command.js';
import { User } from './user.entity.js';

/** Creates the user, or returns the existing one with the same email. */
@CommandHandler(RegisterUserCommand)
export class RegisterUserHandler implements ICommandHandler<RegisterUserCommand> {
  private readonly logger = new Logger(RegisterUserHandler.name);

  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async execute(command: RegisterUserCommand): Promise<RegisteredUser> {
    const existing = await this.users.findOneBy({ email: command.email });
    if (existing) return { user: existing, created: false };
    const user = await this.users.save(
      this.users.create({ email: command.email, name: command.name }),
    );
    this.logger.log(`Registered user ${user.name} <${user.email}> (id ${user.id}).`);
    return { user, created: true };
  }
}
