import { Command } from '@nestjs/cqrs';
import { ScheduledCommand } from 'nestjs-scheduled-commands';

/** One day of a {@link ReportResult}. */
export interface ReportRow {
  readonly day: Date;
  readonly orders: number;
  readonly revenue: number;
}

/**
 * What {@link ProcessReportCommand} returns. It is stored as JSON with the entry and read back with
 * `CommandScheduler.getResult()`, dates rebuilt as `Date` objects, nested objects and arrays intact.
 */
export interface ReportResult {
  readonly reportType: string;
  readonly period: { readonly from: Date; readonly to: Date };
  readonly rows: readonly ReportRow[];
  readonly totals: { readonly orders: number; readonly revenue: number };
  readonly generatedAt: Date;
}

/** Builds a report over a period: heavy work that belongs in the background. */
@ScheduledCommand('process-report')
export class ProcessReportCommand extends Command<ReportResult> {
  constructor(
    readonly reportType: string,
    // Dates are stored as dates and arrive in the handler as `Date` objects again.
    readonly startDate: Date,
    readonly endDate: Date,
  ) {
    super();
  }
}
