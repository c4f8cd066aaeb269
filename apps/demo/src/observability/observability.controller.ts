import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ScheduledCommandsHealthIndicator } from 'nestjs-scheduled-commands/terminus';
import { PrometheusMetrics } from './prometheus-metrics.js';

/** `GET /metrics` (Prometheus text format) and `GET /health` (terminus: 200 when up, 503 when down). */
@Controller()
export class ObservabilityController {
  constructor(
    private readonly prometheus: PrometheusMetrics,
    private readonly health: HealthCheckService,
    private readonly scheduledCommands: ScheduledCommandsHealthIndicator,
  ) {}

  @Get('metrics')
  metrics(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    this.prometheus.exporter.getMetricsRequestHandler(request, response);
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.scheduledCommands.isHealthy('scheduled-commands', { maxDueAge: 30_000 }),
    ]);
  }
}
