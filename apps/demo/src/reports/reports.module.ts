import { Module } from '@nestjs/common';
import { ProcessReportHandler } from './process-report.handler.js';
import { RefreshDashboardHandler } from './refresh-dashboard.command.js';

/** Reports. */
@Module({ providers: [ProcessReportHandler, RefreshDashboardHandler] })
export class ReportsModule {}
