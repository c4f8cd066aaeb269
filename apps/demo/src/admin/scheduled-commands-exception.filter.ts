import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  CommandSerializationError,
  InvalidCommandIdError,
  InvalidScheduleOptionsError,
  RecurringNotSupportedError,
  UnregisteredCommandError,
  type ScheduledCommandsError,
} from 'nestjs-scheduled-commands';

/** Body of a 400 (or 501) answer made from a library error. */
export interface ScheduledCommandsErrorBody {
  readonly statusCode: number;
  /** The error class name, e.g. `InvalidScheduleOptionsError`. */
  readonly error: string;
  readonly message: string;
  /** The offending option or filter, when the error names one. */
  readonly field?: string;
}

/**
 * Turns the library's errors about bad input into `400 Bad Request`: an invalid option, filter or
 * date (`InvalidScheduleOptionsError`), a malformed id (`InvalidCommandIdError`), a value JSON cannot
 * carry (`CommandSerializationError`) or an unregistered command class (`UnregisteredCommandError`).
 * Nothing was stored or changed when one of them is thrown. A recurring schedule request on a
 * store without recurring schedules (MySQL/MariaDB today: `RecurringNotSupportedError`) is
 * `501 Not Implemented`.
 */
@Catch(
  InvalidScheduleOptionsError,
  InvalidCommandIdError,
  CommandSerializationError,
  UnregisteredCommandError,
  RecurringNotSupportedError,
)
export class ScheduledCommandsExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: ScheduledCommandsError, host: ArgumentsHost): void {
    const field =
      error instanceof InvalidScheduleOptionsError
        ? error.field
        : error instanceof CommandSerializationError
          ? error.path
          : undefined;
    const statusCode =
      error instanceof RecurringNotSupportedError
        ? HttpStatus.NOT_IMPLEMENTED
        : HttpStatus.BAD_REQUEST;
    const body: ScheduledCommandsErrorBody = {
      statusCode,
      error: error.name,
      message: error.message,
      ...(field !== undefined && { field }),
    };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, statusCode);
  }
}
