import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ScheduledCommandsHealthIndicator } from 'nestjs-scheduled-commands/terminus';
import { ObservabilityController } from './observability.controller.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

/** Metrics for Prometheus through the OpenTelemetry SDK, and a health check through terminus. */
@Module({
  imports: [TerminusModule],
  controllers: [ObservabilityController],
  providers: [PrometheusMetrics, ScheduledCommandsHealthIndicator],
})
export class ObservabilityModule {}
