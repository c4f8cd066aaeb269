import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  getScheduledCommandContext,
  ScheduledCommand,
  type ScheduledCommandContext,
} from 'nestjs-scheduled-commands';

/** What the handlers saw, in order. */
@Injectable()
export class Journal {
  readonly runs: {
    name: string;
    id?: string;
    command: object;
    context?: ScheduledCommandContext;
  }[] = [];
  /** Remaining failures per key for FlakyCommand. */
  readonly failuresLeft = new Map<string, number>();
  names(): string[] {
    return this.runs.map((r) => r.name);
  }
}

@ScheduledCommand('send-email')
export class SendEmailCommand extends Command<void> {
  constructor(
    readonly to: string,
    readonly subject: string,
  ) {
    super();
  }
}

@CommandHandler(SendEmailCommand)
export class SendEmailHandler implements ICommandHandler<SendEmailCommand> {
  constructor(private readonly journal: Journal) {}
  async execute(command: SendEmailCommand): Promise<void> {
    this.journal.runs.push({
      name: `email:${command.to}`,
      command,
      context: getScheduledCommandContext(command),
    });
  }
}

export class ReportResult {
  constructor(
    readonly title: string,
    readonly generatedAt: Date,
    readonly sections: { name: string; rows: number[]; period: { from: Date; to: Date } }[],
  ) {}
}

@ScheduledCommand('process-report')
export class ProcessReportCommand extends Command<ReportResult> {
  constructor(
    readonly reportType: string,
    readonly startDate: Date,
    readonly endDate: Date,
    readonly filters: { regions: string[]; options: { currency: string } },
  ) {
    super();
  }
  /** A method, to prove the handler receives a real instance. */
  days(): number {
    return Math.round((this.endDate.getTime() - this.startDate.getTime()) / 86_400_000);
  }
}

@CommandHandler(ProcessReportCommand)
export class ProcessReportHandler implements ICommandHandler<ProcessReportCommand, ReportResult> {
  constructor(private readonly journal: Journal) {}
  async execute(command: ProcessReportCommand): Promise<ReportResult> {
    this.journal.runs.push({ name: `report:${command.reportType}`, command });
    return new ReportResult(
      `${command.reportType} (${command.days()} days)`,
      new Date('2026-11-27T12:00:00.000Z'),
      [
        {
          name: command.filters.regions.join('+'),
          rows: [1, 2, 3],
          period: { from: command.startDate, to: command.endDate },
        },
      ],
    );
  }
}

/** Fails `failuresLeft[key]` times (default: always), then succeeds returning the key. */
@ScheduledCommand('flaky')
export class FlakyCommand extends Command<string> {
  constructor(readonly key: string) {
    super();
  }
}

@CommandHandler(FlakyCommand)
export class FlakyHandler implements ICommandHandler<FlakyCommand, string> {
  constructor(private readonly journal: Journal) {}
  async execute(command: FlakyCommand): Promise<string> {
    this.journal.runs.push({
      name: `flaky:${command.key}`,
      command,
      context: getScheduledCommandContext(command),
    });
    const left = this.journal.failuresLeft.get(command.key) ?? Infinity;
    if (left > 0) {
      this.journal.failuresLeft.set(command.key, left - 1);
      throw new Error(`flaky ${command.key} failed`);
    }
    return command.key;
  }
}

/** Records its label; used for ordering tests. */
@ScheduledCommand('label')
export class LabelCommand extends Command<string> {
  constructor(readonly label: string) {
    super();
  }
}

@CommandHandler(LabelCommand)
export class LabelHandler implements ICommandHandler<LabelCommand, string> {
  constructor(private readonly journal: Journal) {}
  async execute(command: LabelCommand): Promise<string> {
    this.journal.runs.push({ name: command.label, command });
    return command.label;
  }
}

/** A registered command with no handler in the app. */
@ScheduledCommand('orphan')
export class OrphanCommand extends Command<void> {
  constructor(readonly n: number) {
    super();
  }
}

/** Not decorated: cannot be scheduled. */
export class UnregisteredCommand extends Command<void> {
  constructor(readonly n: number) {
    super();
  }
}

/** Carries its own idempotency key. */
@ScheduledCommand('welcome')
export class WelcomeCommand extends Command<void> {
  constructor(readonly userId: string) {
    super();
  }
  get idempotencyKey(): string {
    return `welcome:${this.userId}`;
  }
}

@CommandHandler(WelcomeCommand)
export class WelcomeHandler implements ICommandHandler<WelcomeCommand> {
  constructor(private readonly journal: Journal) {}
  async execute(command: WelcomeCommand): Promise<void> {
    this.journal.runs.push({ name: `welcome:${command.userId}`, command });
  }
}

/** Waits until released by the test. */
@ScheduledCommand('gate')
export class GateCommand extends Command<string> {
  constructor(readonly name: string) {
    super();
  }
}

@Injectable()
export class Gates {
  private readonly waiting = new Map<string, () => void>();
  readonly started: string[] = [];
  readonly signals = new Map<string, AbortSignal>();
  wait(name: string, signal?: AbortSignal): Promise<void> {
    this.started.push(name);
    if (signal) this.signals.set(name, signal);
    return new Promise((resolve) => this.waiting.set(name, resolve));
  }
  open(name: string): void {
    this.waiting.get(name)?.();
  }
}

@CommandHandler(GateCommand)
export class GateHandler implements ICommandHandler<GateCommand, string> {
  constructor(private readonly gates: Gates) {}
  async execute(command: GateCommand): Promise<string> {
    await this.gates.wait(command.name, getScheduledCommandContext(command)?.signal);
    return `opened ${command.name}`;
  }
}

export const allHandlers = [
  Journal,
  Gates,
  SendEmailHandler,
  ProcessReportHandler,
  FlakyHandler,
  LabelHandler,
  WelcomeHandler,
  GateHandler,
];
