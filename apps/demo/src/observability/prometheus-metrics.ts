import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The OpenTelemetry metrics SDK with its Prometheus exporter, registered as the global meter provider:
 * the library records into it, and `GET /metrics` serves it in the Prometheus text format. (A real
 * application usually starts its SDK in `main.ts`, before Nest; the library picks up a provider
 * registered later just as well.)
 */
@Injectable()
export class PrometheusMetrics implements OnApplicationShutdown {
  /** The exporter, which renders the metrics when asked (it starts no server of its own here). */
  readonly exporter = new PrometheusExporter({ preventServerStart: true });
  private readonly provider = new MeterProvider({ readers: [this.exporter] });

  constructor() {
    metrics.setGlobalMeterProvider(this.provider);
  }

  async onApplicationShutdown(): Promise<void> {
    metrics.disable();
    await this.provider.shutdown();
  }
}
