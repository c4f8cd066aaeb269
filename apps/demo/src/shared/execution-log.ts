import { Injectable } from '@nestjs/common';

/** One handler run, as recorded by {@link ExecutionLog}. */
export interface Execution {
  /** The stable command name (`@ScheduledCommand(name)`). */
  readonly commandType: string;
  /** A short human-readable label (e.g. "payment for order-1001"). */
  readonly label: string;
  readonly at: Date;
}

/**
 * In-memory record of the handlers that ran, in the order they started. The story reads it to show
 * that a high-priority command overtook low-priority ones that were due at the same moment.
 */
@Injectable()
export class ExecutionLog {
  private readonly executions: Execution[] = [];

  /** Records that a handler started. */
  record(commandType: string, label: string): void {
    this.executions.push({ commandType, label, at: new Date() });
  }

  /** Every run recorded so far, optionally only those of the given command names. */
  list(...commandTypes: string[]): Execution[] {
    return commandTypes.length === 0
      ? [...this.executions]
      : this.executions.filter((e) => commandTypes.includes(e.commandType));
  }
}
