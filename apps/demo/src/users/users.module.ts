import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RegisterUserHandler } from './register-user.handler.js';
import { User } from './user.entity.js';

/** Users: the `users` table and the `RegisterUserCommand` handler. */
@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [RegisterUserHandler],
  exports: [TypeOrmModule],
})
export class UsersModule {}
