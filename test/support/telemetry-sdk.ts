import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/**
 * An OpenTelemetry SDK with in-memory span and metric exporters, for tests. The AsyncLocalStorage
 * context manager is registered at once; the tracer and meter providers by {@link register}.
 */
export interface TestSdk {
  /** Registers the tracer and meter providers globally. */
  register(): void;
  /** Unregisters them (the library then records nothing). */
  unregister(): void;
  finishedSpans(): ReadableSpan[];
  /** The span named `name`; fails the test when there is not exactly one. */
  span(name: string): ReadableSpan;
  /** Forgets the finished spans. */
  resetSpans(): void;
  /** Every metric recorded so far, by name (cumulative figures). */
  metrics(): Promise<Map<string, MetricData>>;
  /** Unregisters everything, the context manager too. */
  shutdown(): Promise<void>;
}

/** A {@link TestSdk}, not registered yet. */
export function createTestSdk(): TestSdk {
  const spans = new InMemorySpanExporter();
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const unregister = () => {
    trace.disable();
    metrics.disable();
  };
  return {
    register() {
      trace.setGlobalTracerProvider(tracerProvider);
      metrics.setGlobalMeterProvider(meterProvider);
    },
    unregister,
    finishedSpans: () => spans.getFinishedSpans(),
    span(name) {
      const found = spans.getFinishedSpans().filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`${found.length} spans named "${name}"`);
      return found[0];
    },
    resetSpans: () => spans.reset(),
    async metrics() {
      await reader.forceFlush();
      const byName = new Map<string, MetricData>();
      for (const scope of exporter.getMetrics().at(-1)?.scopeMetrics ?? []) {
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      }
      return byName;
    },
    async shutdown() {
      unregister();
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** A {@link TestSdk}, registered. */
export function registerTestSdk(): TestSdk {
  const sdk = createTestSdk();
  sdk.register();
  return sdk;
}
