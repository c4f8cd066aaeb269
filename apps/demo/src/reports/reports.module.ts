import { Module } from '@nestjs/common';
import { ProcessReportHandler } from './process-report.handler.js';

/** Reports. */
@Module({ providers: [ProcessReportHandler] })
export class ReportsModule {}
