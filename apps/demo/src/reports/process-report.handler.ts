import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { getScheduledCommandContext } from 'nestjs-scheduled-commands';
import { ExecutionLog } from '../shared/execution-log.js';
import {
  ProcessReportCommand,
  type ReportResult,
  type ReportRow,
} from './process-report.command.js';

const DAY = 86_400_000;

/** Handles {@link ProcessReportCommand} with made-up but deterministic figures. */
@CommandHandler(ProcessReportCommand)
export class ProcessReportHandler implements ICommandHandler<ProcessReportCommand> {
  private readonly logger = new Logger(ProcessReportHandler.name);

  constructor(private readonly log: ExecutionLog) {}

  async execute(command: ProcessReportCommand): Promise<ReportResult> {
    this.log.record('process-report', `${command.reportType} report`);
    const context = getScheduledCommandContext(command);
    this.logger.log(
      `Building the ${command.reportType} report from ${command.startDate.toISOString().slice(0, 10)} ` +
        `to ${command.endDate.toISOString().slice(0, 10)} (startDate is a ${command.startDate.constructor.name}, ` +
        `attempt ${context?.attempt ?? '-'}).`,
    );
    const rows: ReportRow[] = [];
    for (
      let t = command.startDate.getTime(), i = 1;
      t <= command.endDate.getTime();
      t += DAY, i++
    ) {
      // Long work checks the signal: it fires on commandTimeout, a lost lease or shutdown.
      context?.signal.throwIfAborted();
      rows.push({ day: new Date(t), orders: 10 + ((i * 7) % 13), revenue: 250 + ((i * 53) % 170) });
    }
    const totals = rows.reduce(
      (sum, row) => ({ orders: sum.orders + row.orders, revenue: sum.revenue + row.revenue }),
      { orders: 0, revenue: 0 },
    );
    return {
      reportType: command.reportType,
      period: { from: command.startDate, to: command.endDate },
      rows,
      totals,
      generatedAt: new Date(),
    };
  }
}
