import type { OnModuleDestroy } from '@nestjs/common';
import {
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';
import type { LifecycleEvents } from '../events/lifecycle-events.js';
import type {
  NewScheduledCommand,
  ScheduledCommandEntry,
  StatusCounts,
} from '../store/scheduled-command-entry.js';
import type { RunOutcome } from '../worker/command-runner.js';
import { CommandInstruments, meterFrom, StatusCountsReader } from './command-instruments.js';
import type { OpenTelemetryApi } from './opentelemetry-api.js';
import { ATTR, MESSAGING_SYSTEM, TELEMETRY_SCOPE, type RunOutcomeName } from './telemetry-names.js';
import { decodeTraceContext, encodeTraceContext } from './trace-context.js';

type TracerProvider = ReturnType<OpenTelemetryApi['trace']['getTracerProvider']>;
type Tracer = ReturnType<TracerProvider['getTracer']>;
type Span = ReturnType<Tracer['startSpan']>;
type SpanOptions = NonNullable<Parameters<Tracer['startSpan']>[1]>;

/** Telemetry settings, after defaults (see `ScheduledCommandsModuleOptions.telemetry`). */
export interface ResolvedTelemetryOptions {
  readonly enabled: boolean;
  readonly statusGaugeInterval: number;
}

/** The semantic-convention attributes of one message's span (`create` or `process`). */
function messageAttributes(operation: string, commandType: string, id: string) {
  return {
    [ATTR.system]: MESSAGING_SYSTEM,
    [ATTR.operationType]: operation,
    [ATTR.operationName]: operation,
    [ATTR.destination]: commandType,
    [ATTR.messageId]: id,
  };
}

/** What a run ended with, for a span and the metrics. */
function outcomeName(outcome: RunOutcome): RunOutcomeName {
  if (outcome.kind === 'completed') return 'completed';
  if (outcome.settled) return 'timed_out';
  return outcome.permanent ? 'rejected' : 'failed';
}

/**
 * Spans and metrics of scheduled commands through `@opentelemetry/api`, following the OpenTelemetry
 * messaging semantic conventions (see `telemetry-names.ts`).
 *
 * The library never registers an SDK: it records into whatever tracer and meter providers the
 * application registered globally, and does nothing when there are none (or when
 * `@opentelemetry/api` is not installed). Every hot path first reads {@link active}, a few property
 * reads, and takes the plain path when it is `false`: no span, no attribute object, no closure.
 * Providers registered after start-up are picked up on the next command.
 */
export class ScheduledCommandsTelemetry implements OnModuleDestroy {
  private readonly noopTracerProvider: unknown;
  private tracerSource: unknown;
  private tracer: Tracer | null = null;
  private meterSource: unknown;
  private instruments: CommandInstruments | null = null;
  private readonly statusCounts: StatusCountsReader | null;
  private stopListening: (() => void) | undefined;

  /**
   * @param api `@opentelemetry/api`, or `null` when it is not installed (telemetry off)
   * @param readCounts reads entries per status for the gauges (the store's `countByStatus`)
   */
  constructor(
    private readonly api: OpenTelemetryApi | null,
    private readonly options: ResolvedTelemetryOptions,
    readCounts: () => Promise<StatusCounts>,
  ) {
    // The API's no-op provider: what a proxy provider with no SDK behind it delegates to.
    this.noopTracerProvider = api ? new api.ProxyTracerProvider().getDelegate() : undefined;
    this.statusCounts =
      options.statusGaugeInterval > 0
        ? new StatusCountsReader(readCounts, options.statusGaugeInterval)
        : null;
  }

  /** Whether anything is recorded now (a tracer or meter provider is registered). The hot-path guard. */
  get active(): boolean {
    return (
      this.api !== null &&
      this.options.enabled &&
      (this.metrics() !== null || this.tracing() !== null)
    );
  }

  /**
   * Counts retries, dead letters and expiries from the lifecycle events this instance publishes, and
   * makes the instruments (the status gauge among them) if a meter provider is registered already.
   */
  listen(events: Pick<LifecycleEvents, 'listen'>): void {
    if (this.api === null || !this.options.enabled) return;
    this.metrics();
    this.stopListening = events.listen((event) => {
      if (
        !(event instanceof ScheduledCommandRetryingEvent) &&
        !(event instanceof ScheduledCommandFailedEvent) &&
        !(event instanceof ScheduledCommandExpiredEvent)
      )
        return;
      const instruments = this.metrics();
      if (!instruments) return;
      if (event instanceof ScheduledCommandRetryingEvent)
        instruments.recordRetry(event.commandType);
      else if (event instanceof ScheduledCommandFailedEvent)
        instruments.recordDeadLetter(event.commandType);
      else instruments.recordExpired(event.commandType);
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /**
   * Stores `entries` through `write` inside a producer span (`send <commandType>`; for more than one
   * entry, a `send` span with one `create <commandType>` span per entry), each entry carrying its span's
   * context in `traceContext`; then counts them as sent. Call it only when {@link active}.
   */
  async produce<R>(
    entries: readonly NewScheduledCommand[],
    write: (entries: readonly NewScheduledCommand[]) => Promise<R>,
  ): Promise<R> {
    const api = this.api as OpenTelemetryApi;
    const tracer = this.tracing();
    let result: R;
    if (tracer === null) {
      result = await write(entries);
    } else {
      const single = entries.length === 1;
      const type = commonType(entries);
      const send = tracer.startSpan(type === null ? 'send' : `send ${type}`, {
        kind: api.SpanKind.PRODUCER,
        attributes: {
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.operationType]: 'send',
          [ATTR.operationName]: 'send',
          ...(type === null ? {} : { [ATTR.destination]: type }),
          ...(single ? { [ATTR.messageId]: entries[0].id } : { [ATTR.batchCount]: entries.length }),
        },
      });
      const inSend = api.trace.setSpan(api.context.active(), send);
      const traced = entries.map((entry) => {
        const span = single ? send : this.createSpan(tracer, entry, inSend);
        return { ...entry, traceContext: encodeTraceContext(api, span.spanContext()) };
      });
      try {
        result = await api.context.with(inSend, () => write(traced));
      } catch (error) {
        this.failSpan(send, error);
        send.end();
        throw error;
      }
      send.end();
    }
    const instruments = this.metrics();
    if (instruments) countByType(entries, (type, count) => instruments.recordSent(type, count));
    return result;
  }

  /**
   * Creates or changes the recurring schedule `name` through `write` inside a producer span `create
   * <commandType>` (operation name `schedule_recurring`), whose context `write` stores with the
   * schedule: every occurrence carries it, and its run links to it. Call it only when {@link active}.
   */
  async produceRecurring<R>(
    name: string,
    commandType: string,
    write: (traceContext: string | null) => Promise<R>,
  ): Promise<R> {
    const api = this.api as OpenTelemetryApi;
    const tracer = this.tracing();
    if (tracer === null) return write(null);
    const span = tracer.startSpan(`create ${commandType}`, {
      kind: api.SpanKind.PRODUCER,
      attributes: {
        [ATTR.system]: MESSAGING_SYSTEM,
        [ATTR.operationType]: 'create',
        [ATTR.operationName]: 'schedule_recurring',
        [ATTR.destination]: commandType,
        [ATTR.recurringName]: name,
      },
    });
    const traceContext = encodeTraceContext(api, span.spanContext());
    try {
      return await api.context.with(api.trace.setSpan(api.context.active(), span), () =>
        write(traceContext),
      );
    } catch (error) {
      this.failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Runs one attempt of `entry` through `run` inside a consumer span `process <commandType>`: the
   * first attempt of a one-off command is a child of the scheduling span; a later attempt (retry,
   * requeue, take-over) and every occurrence of a recurring schedule start a new trace linked to it.
   * The span is the active context while the handler runs, so the handler's own spans nest under it.
   * Records the run's metrics. Call it only when {@link active}.
   *
   * This runs for every command: the tracer and the instruments are looked up once, the span's
   * attributes are one object (no spread), and a span the sampler dropped gets no further attribute work.
   */
  process(entry: ScheduledCommandEntry, run: () => Promise<RunOutcome>): Promise<RunOutcome> {
    const api = this.api as OpenTelemetryApi;
    const started = performance.now();
    const latenessMs = entry.startedAt
      ? entry.startedAt.getTime() - entry.scheduledFor.getTime()
      : 0;
    const instruments = this.metrics();
    instruments?.recordStarted(entry.commandType, latenessMs);
    const tracer = this.tracing();
    if (tracer === null) {
      return run().then((outcome) => this.processed(entry, outcome, started, instruments, null));
    }
    const stored = decodeTraceContext(api, entry.traceContext);
    const attributes: Record<string, string | number> = messageAttributes(
      'process',
      entry.commandType,
      entry.id,
    );
    attributes[ATTR.attempt] = entry.attempts;
    attributes[ATTR.lateness] = latenessMs;
    const options: SpanOptions = { kind: api.SpanKind.CONSUMER, attributes };
    let parent = api.ROOT_CONTEXT;
    if (stored !== null) {
      if (entry.attempts <= 1 && entry.recurringName === null)
        parent = api.trace.setSpanContext(parent, stored);
      else options.links = [{ context: stored }];
    }
    const span = tracer.startSpan(`process ${entry.commandType}`, options, parent);
    return api.context
      .with(api.trace.setSpan(parent, span), run)
      .then((outcome) => this.processed(entry, outcome, started, instruments, span));
  }

  private processed(
    entry: ScheduledCommandEntry,
    outcome: RunOutcome,
    started: number,
    instruments: CommandInstruments | null,
    span: Span | null,
  ): RunOutcome {
    const name = outcomeName(outcome);
    if (span !== null) {
      if (span.isRecording()) {
        span.setAttribute(ATTR.outcome, name);
        if (outcome.kind === 'failed') this.failSpan(span, outcome.exception ?? outcome.error);
      }
      span.end();
    }
    instruments?.recordProcessed(entry.commandType, name, (performance.now() - started) / 1000);
    return outcome;
  }

  private createSpan(tracer: Tracer, entry: NewScheduledCommand, parent: unknown): Span {
    const api = this.api as OpenTelemetryApi;
    const span = tracer.startSpan(
      `create ${entry.commandType}`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: messageAttributes('create', entry.commandType, entry.id),
      },
      parent as ReturnType<OpenTelemetryApi['context']['active']>,
    );
    span.end();
    return span;
  }

  private failSpan(span: Span, error: unknown): void {
    const api = this.api as OpenTelemetryApi;
    const exception = error instanceof Error ? error : String(error);
    span.recordException(exception);
    span.setAttribute(ATTR.errorType, error instanceof Error ? error.name : 'Error');
    span.setStatus({
      code: api.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }

  /** This library's tracer, or `null` when no tracer provider is registered. */
  private tracing(): Tracer | null {
    const api = this.api as OpenTelemetryApi;
    const global = api.trace.getTracerProvider() as TracerProvider & { getDelegate?(): unknown };
    const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
    if (provider === this.noopTracerProvider) return null;
    if (provider !== this.tracerSource) {
      this.tracerSource = provider;
      this.tracer = (provider as TracerProvider).getTracer(TELEMETRY_SCOPE);
    }
    return this.tracer;
  }

  /** The instruments, or `null` when no meter provider is registered. */
  private metrics(): CommandInstruments | null {
    const api = this.api as OpenTelemetryApi;
    const provider = api.metrics.getMeterProvider();
    if (provider !== this.meterSource) {
      this.meterSource = provider;
      const meter = meterFrom(api, provider);
      this.instruments = meter ? new CommandInstruments(provider, meter, this.statusCounts) : null;
    }
    return this.instruments;
  }
}

/** Calls `record` once per command type of `entries`, with how many entries have it. */
function countByType(
  entries: readonly NewScheduledCommand[],
  record: (commandType: string, count: number) => void,
): void {
  const type = commonType(entries);
  if (type !== null) return record(type, entries.length);
  const counts = new Map<string, number>();
  for (const entry of entries)
    counts.set(entry.commandType, (counts.get(entry.commandType) ?? 0) + 1);
  for (const [commandType, count] of counts) record(commandType, count);
}

/** The command type shared by every entry, or `null` when they differ. */
function commonType(entries: readonly NewScheduledCommand[]): string | null {
  const type = entries[0].commandType;
  for (const entry of entries) if (entry.commandType !== type) return null;
  return type;
}
