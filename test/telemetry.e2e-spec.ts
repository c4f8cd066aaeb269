import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ScheduledCommand, TELEMETRY_METRICS } from 'nestjs-scheduled-commands';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, until, type TestApp } from './support/app.js';
import { createPgDatabase, pgAvailable, type PgTestDatabase } from './support/postgres.js';
import { registerTestSdk, type TestSdk } from './support/telemetry-sdk.js';

@ScheduledCommand('telemetry.invoice')
class InvoiceCommand extends Command<string> {
  constructor(readonly customer: string) {
    super();
  }
}

@ScheduledCommand('telemetry.flaky')
class FlakyCommand extends Command<void> {}

@ScheduledCommand('telemetry.tick')
class TickCommand extends Command<void> {}

@Injectable()
class Failures {
  left = 1;
}

@CommandHandler(InvoiceCommand)
class InvoiceHandler implements ICommandHandler<InvoiceCommand> {
  async execute(command: InvoiceCommand): Promise<string> {
    // The handler's own instrumented work (a database or HTTP client span) joins the trace.
    const span = trace.getTracer('billing').startSpan('billing.create-invoice');
    span.end();
    return `invoice for ${command.customer}`;
  }
}

@CommandHandler(TickCommand)
class TickHandler implements ICommandHandler<TickCommand> {
  async execute(): Promise<void> {}
}

@CommandHandler(FlakyCommand)
class FlakyHandler implements ICommandHandler<FlakyCommand> {
  constructor(private readonly failures: Failures) {}
  async execute(): Promise<void> {
    if (this.failures.left-- > 0) throw new RangeError('first attempt fails');
  }
}

describe.skipIf(!pgAvailable())('OpenTelemetry across two applications on one PostgreSQL', () => {
  let db: PgTestDatabase;
  let sdk: TestSdk;
  let producer: TestApp;
  let consumer: TestApp;

  beforeAll(async () => {
    sdk = registerTestSdk();
    db = await createPgDatabase();
    const typeorm = { type: 'postgres', url: db.url, autoLoadEntities: true, synchronize: true };
    // The producer schedules only (no worker, no handlers); the consumer runs the commands.
    producer = await createTestApp({
      typeorm,
      options: {
        enabled: false,
        listen: false,
        commands: [InvoiceCommand, FlakyCommand, TickCommand],
      },
    });
    consumer = await createTestApp({
      typeorm,
      options: { listen: false, retryDelayBase: 0, telemetry: { statusGaugeInterval: 0 } },
      providers: [Failures, InvoiceHandler, FlakyHandler, TickHandler],
    });
  });

  afterAll(async () => {
    await producer?.close();
    await consumer?.close();
    await db?.drop();
    await sdk?.shutdown();
  });

  it('schedule in one app, run in the other: one trace from the request through the handler', async () => {
    const id = await trace
      .getTracer('http')
      .startActiveSpan('POST /invoices', (span) =>
        producer.scheduler.schedule(new InvoiceCommand('acme')).finally(() => span.end()),
      );
    const stored = await producer.entry(id);
    expect(stored.payload).toBe('{"customer":"acme"}');
    expect(stored.traceContext).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    await consumer.runDue();
    expect((await consumer.entry(id)).status).toBe('completed');

    const http = sdk.span('POST /invoices');
    const send = sdk.span('send telemetry.invoice');
    const process = sdk.span('process telemetry.invoice');
    const work = sdk.span('billing.create-invoice');
    const traceId = http.spanContext().traceId;
    expect([send, process, work].map((s) => s.spanContext().traceId)).toEqual([
      traceId,
      traceId,
      traceId,
    ]);
    expect(send.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes['messaging.message.id']).toBe(id);
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(work.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(process.attributes).toMatchObject({
      'messaging.system': 'nestjs_scheduled_commands',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'telemetry.invoice',
      'messaging.message.id': id,
      'scheduled_commands.attempt': 1,
      'scheduled_commands.outcome': 'completed',
    });
    expect(process.attributes['scheduled_commands.lateness_ms']).toBeGreaterThanOrEqual(0);
  });

  it('a retry is a new trace linked to the scheduling span; the failed attempt records its exception', async () => {
    const id = await producer.scheduler.schedule(new FlakyCommand(), { maxRetries: 1 });
    // Retried at once (retryDelayBase 0): both attempts may run in one pass.
    await until(async () => {
      await consumer.runDue();
      return (await consumer.entry(id)).status === 'completed';
    });

    const send = sdk.span('send telemetry.flaky');
    const [first, second] = sdk.finishedSpans().filter((s) => s.name === 'process telemetry.flaky');
    expect(first.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'first attempt fails' });
    expect(first.events.find((e) => e.name === 'exception')?.attributes).toMatchObject({
      'exception.type': 'RangeError',
      'exception.message': 'first attempt fails',
    });
    expect(first.attributes['scheduled_commands.outcome']).toBe('failed');
    expect(second.attributes['scheduled_commands.attempt']).toBe(2);
    expect(second.spanContext().traceId).not.toBe(send.spanContext().traceId);
    expect(second.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
  });

  it('records the metrics under their names, with command type, operation and outcome only', async () => {
    const m = await sdk.metrics();
    const points = (name: string) => m.get(name)?.dataPoints ?? [];
    const of = (name: string, type: string) =>
      points(name).filter((p) => p.attributes['messaging.destination.name'] === type);
    expect(of(TELEMETRY_METRICS.sent, 'telemetry.invoice').map((p) => p.value)).toEqual([1]);
    expect(of(TELEMETRY_METRICS.sent, 'telemetry.flaky')[0].attributes).toEqual({
      'messaging.system': 'nestjs_scheduled_commands',
      'messaging.destination.name': 'telemetry.flaky',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
    });
    expect(of(TELEMETRY_METRICS.consumed, 'telemetry.flaky').map((p) => p.value)).toEqual([2]);
    const durations = of(TELEMETRY_METRICS.processDuration, 'telemetry.flaky');
    expect(
      durations
        .map((p) => [
          p.attributes['scheduled_commands.outcome'],
          (p.value as { count: number }).count,
        ])
        .sort(),
    ).toEqual([
      ['completed', 1],
      ['failed', 1],
    ]);
    expect(of(TELEMETRY_METRICS.retries, 'telemetry.flaky').map((p) => p.value)).toEqual([1]);
    expect(
      (of(TELEMETRY_METRICS.lateness, 'telemetry.invoice')[0].value as { count: number }).count,
    ).toBe(1);
    // Bounded attributes: no id anywhere in a metric.
    for (const metric of m.values()) {
      for (const point of metric.dataPoints) {
        expect(Object.keys(point.attributes).filter((k) => k.includes('id'))).toEqual([]);
      }
    }
  });

  it('each occurrence of a recurring schedule is a trace of its own, linked to the span that created the schedule', async () => {
    await trace
      .getTracer('http')
      .startActiveSpan('PUT /schedules/ticks', (span) =>
        producer.scheduler
          .scheduleRecurring('telemetry-ticks', new TickCommand(), { every: 1_000 })
          .finally(() => span.end()),
      );
    const http = sdk.span('PUT /schedules/ticks');
    const create = sdk.span('create telemetry.tick');
    expect(create.kind).toBe(SpanKind.PRODUCER);
    expect(create.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(create.attributes).toMatchObject({
      'messaging.system': 'nestjs_scheduled_commands',
      'messaging.operation.type': 'create',
      'messaging.operation.name': 'schedule_recurring',
      'messaging.destination.name': 'telemetry.tick',
      'scheduled_commands.recurring_name': 'telemetry-ticks',
    });
    // The consumer's materialiser creates the occurrences (one a second), its worker runs them; one
    // more is triggered by hand.
    const runs = () => sdk.finishedSpans().filter((s) => s.name === 'process telemetry.tick');
    await until(async () => {
      await consumer.runDue();
      return runs().length >= 2;
    });
    const triggered = await producer.scheduler.triggerRecurring('telemetry-ticks');
    await until(async () => {
      await consumer.runDue();
      return runs().some((s) => s.attributes['messaging.message.id'] === triggered);
    });
    await producer.scheduler.removeRecurring('telemetry-ticks');

    const traces = new Set<string>();
    for (const run of runs()) {
      expect(run.kind).toBe(SpanKind.CONSUMER);
      expect(run.parentSpanContext).toBeUndefined();
      expect(run.attributes['scheduled_commands.attempt']).toBe(1);
      expect(run.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
        [create.spanContext().traceId, create.spanContext().spanId],
      ]);
      traces.add(run.spanContext().traceId);
    }
    expect(traces.size).toBe(runs().length);
    expect(traces.has(create.spanContext().traceId)).toBe(false);
  });
});
