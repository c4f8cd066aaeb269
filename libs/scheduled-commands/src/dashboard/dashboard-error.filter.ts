import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ScheduledCommandsError } from '../errors/index.js';

/**
 * Answers the library's validation errors (a malformed id, an invalid filter or time) with 400 and
 * their message, on either adapter; other errors go to the host app's handling.
 */
@Catch(ScheduledCommandsError)
export class DashboardErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: ScheduledCommandsError, host: ArgumentsHost): void {
    const response: unknown = host.switchToHttp().getResponse();
    this.adapterHost.httpAdapter.reply(
      response,
      { statusCode: 400, error: 'Bad Request', message: error.message },
      400,
    );
  }
}
