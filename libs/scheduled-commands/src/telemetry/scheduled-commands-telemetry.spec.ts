import * as api from '@opentelemetry/api';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { EventBus } from '@nestjs/cqrs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestSdk } from '../../../../test/support/telemetry-sdk.js';
import {
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';
import { LifecycleEvents } from '../events/lifecycle-events.js';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import type {
  NewScheduledCommand,
  ScheduledCommandEntry,
} from '../store/scheduled-command-entry.js';
import { ManualClock } from '../testing/manual-clock.js';
import { newCommand } from '../testing/new-command.js';
import type { RunOutcome } from '../worker/command-runner.js';
import { ScheduledCommandsTelemetry } from './scheduled-commands-telemetry.js';
import { METRIC } from './telemetry-names.js';

const sdk = createTestSdk();
const register = () => sdk.register();
const unregister = () => sdk.unregister();
const collectMetrics = () => sdk.metrics();
const spans = { getFinishedSpans: () => sdk.finishedSpans() };

const options = { enabled: true, statusGaugeInterval: 60_000 };
let statusReads = 0;
const newTelemetry = () =>
  new ScheduledCommandsTelemetry(api, options, async () => {
    statusReads++;
    return { pending: 3, processing: 1, completed: 7, failed: 0, cancelled: 0, expired: 2 };
  });

async function claimed(store: InMemoryScheduledCommandStore, command: NewScheduledCommand) {
  await store.schedule(command);
  const [entry] = await store.claim({ workerId: 'w', limit: 1, leaseMs: 10_000 });
  return entry;
}

const completed: RunOutcome = { kind: 'completed', result: 1, resultPayload: '1' };

describe('ScheduledCommandsTelemetry', () => {
  afterEach(() => {
    unregister();
    sdk.resetSpans();
  });
  afterAll(() => sdk.shutdown());

  it('is inactive with no SDK registered, or without the API, or when disabled', () => {
    unregister();
    expect(newTelemetry().active).toBe(false);
    register();
    expect(newTelemetry().active).toBe(true);
    expect(new ScheduledCommandsTelemetry(null, options, async () => ({}) as never).active).toBe(
      false,
    );
    expect(
      new ScheduledCommandsTelemetry(api, { ...options, enabled: false }, async () => ({}) as never)
        .active,
    ).toBe(false);
    // A provider registered after start-up is picked up.
    const telemetry = newTelemetry();
    unregister();
    expect(telemetry.active).toBe(false);
    register();
    expect(telemetry.active).toBe(true);
  });

  it('schedule: one producer span "send <type>" whose context is stored with the entry', async () => {
    register();
    const telemetry = newTelemetry();
    const command = newCommand({ commandType: 'emails.send' });
    let stored: readonly NewScheduledCommand[] = [];
    const parent = trace.getTracer('app').startSpan('http request');
    await context.with(trace.setSpan(context.active(), parent), () =>
      telemetry.produce([command], async (traced) => {
        stored = traced;
        // The store call runs inside the send span (the database client's spans nest under it).
        return trace.getActiveSpan()?.spanContext().spanId;
      }),
    );
    parent.end();
    const [send] = spans.getFinishedSpans().filter((s) => s.name === 'send emails.send');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(send.attributes).toEqual({
      'messaging.system': 'nestjs_scheduled_commands',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'emails.send',
      'messaging.message.id': command.id,
    });
    const ctx = send.spanContext();
    expect(stored[0].traceContext).toBe(`00-${ctx.traceId}-${ctx.spanId}-01`);
    expect(stored[0].payload).toBe(command.payload);
  });

  it('scheduleMany: a send span and one create span per entry, each entry with its own context', async () => {
    register();
    const telemetry = newTelemetry();
    const commands = [newCommand({ commandType: 'a' }), newCommand({ commandType: 'b' })];
    let stored: readonly NewScheduledCommand[] = [];
    await telemetry.produce(commands, async (traced) => (stored = traced));
    const finished = spans.getFinishedSpans();
    const send = finished.find((s) => s.name === 'send')!;
    expect(send.attributes['messaging.batch.message_count']).toBe(2);
    expect(send.attributes['messaging.destination.name']).toBeUndefined();
    for (const [i, type] of ['a', 'b'].entries()) {
      const create = finished.find((s) => s.name === `create ${type}`)!;
      expect(create.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(create.attributes['messaging.message.id']).toBe(commands[i].id);
      expect(stored[i].traceContext).toContain(create.spanContext().spanId);
    }
    const sent = (await collectMetrics()).get(METRIC.sent)!;
    expect(
      sent.dataPoints.map((p) => [p.attributes['messaging.destination.name'], p.value]),
    ).toEqual(
      expect.arrayContaining([
        ['a', 1],
        ['b', 1],
      ]),
    );
  });

  it('a failed store write marks the send span as an error and rethrows', async () => {
    register();
    const telemetry = newTelemetry();
    const error = new Error('store down');
    await expect(
      telemetry.produce([newCommand({ commandType: 'x' })], () => Promise.reject(error)),
    ).rejects.toBe(error);
    const [send] = spans.getFinishedSpans();
    expect(send.status).toEqual({ code: SpanStatusCode.ERROR, message: 'store down' });
    expect(send.events[0].name).toBe('exception');
  });

  it('the first attempt runs in "process <type>", a child of the scheduling span, with the handler nested', async () => {
    register();
    const telemetry = newTelemetry();
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    let command!: NewScheduledCommand;
    await telemetry.produce([newCommand({ commandType: 'report' })], async ([traced]) => {
      command = traced;
    });
    const entry = await claimedLater(store, clock, command, 1_500);
    const outcome = await telemetry.process(entry, async () => {
      trace.getTracer('handler').startSpan('db query').end();
      return completed;
    });
    expect(outcome).toBe(completed);
    const finished = spans.getFinishedSpans();
    const send = finished.find((s) => s.name === 'send report')!;
    const process = finished.find((s) => s.name === 'process report')!;
    const query = finished.find((s) => s.name === 'db query')!;
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(query.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(process.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'report',
      'messaging.message.id': entry.id,
      'scheduled_commands.attempt': 1,
      'scheduled_commands.lateness_ms': 1_500,
      'scheduled_commands.outcome': 'completed',
    });
    expect(process.links).toEqual([]);

    const m = await collectMetrics();
    expect(m.get(METRIC.consumed)!.dataPoints[0].value).toBe(1);
    const lateness = m.get(METRIC.lateness)!.dataPoints[0];
    expect(lateness.attributes).toEqual({
      'messaging.system': 'nestjs_scheduled_commands',
      'messaging.destination.name': 'report',
    });
    expect((lateness.value as { sum: number }).sum).toBeCloseTo(1.5);
    const duration = m.get(METRIC.processDuration)!;
    expect(duration.descriptor.unit).toBe('s');
    expect(
      duration.dataPoints.some((p) => p.attributes['scheduled_commands.outcome'] === 'completed'),
    ).toBe(true);
  });

  it('a retry starts a new trace linked to the scheduling span; a failure sets the status and records the exception', async () => {
    register();
    const telemetry = newTelemetry();
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    let command!: NewScheduledCommand;
    await telemetry.produce([newCommand({ commandType: 'flaky', maxRetries: 1 })], async ([t]) => {
      command = t;
    });
    const first = await claimed(store, command);
    const boom = new TypeError('boom');
    await telemetry.process(first, async () => ({
      kind: 'failed',
      error: 'boom',
      permanent: false,
      exception: boom,
    }));
    await store.retry({ id: first.id, workerId: 'w', attempt: first.attempts }, 'boom', 0);
    const [second] = await store.claim({ workerId: 'w', limit: 1, leaseMs: 10_000 });
    await telemetry.process(second, async () => completed);

    const finished = spans.getFinishedSpans();
    const send = finished.find((s) => s.name === 'send flaky')!;
    const [failed, retried] = finished.filter((s) => s.name === 'process flaky');
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('TypeError');
    expect(failed.attributes['scheduled_commands.outcome']).toBe('failed');
    expect(failed.events.map((e) => e.name)).toEqual(['exception']);
    expect(retried.attributes['scheduled_commands.attempt']).toBe(2);
    expect(retried.spanContext().traceId).not.toBe(send.spanContext().traceId);
    expect(retried.parentSpanContext).toBeUndefined();
    expect(retried.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
  });

  it('a run after a lost lease (recovered, claimed again) links to the scheduling span too', async () => {
    register();
    const telemetry = newTelemetry();
    const clock = new ManualClock();
    const store = new InMemoryScheduledCommandStore(clock);
    let command!: NewScheduledCommand;
    await telemetry.produce([newCommand({ commandType: 'taken-over' })], async ([t]) => {
      command = t;
    });
    await claimed(store, command); // a worker that dies: its lease runs out
    clock.advance(10_001);
    await store.recoverExpiredLeases(10);
    const [again] = await store.claim({ workerId: 'w2', limit: 1, leaseMs: 10_000 });
    await telemetry.process(again, async () => completed);

    const send = sdk.span('send taken-over');
    const run = sdk.span('process taken-over');
    expect(run.attributes['scheduled_commands.attempt']).toBe(2);
    expect(run.parentSpanContext).toBeUndefined();
    expect(run.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
  });

  it('counts every run of a batch started in one turn, by command type', async () => {
    register();
    const telemetry = newTelemetry();
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    for (const type of ['batch.a', 'batch.a', 'batch.b']) {
      await store.schedule(newCommand({ commandType: type }));
    }
    const batch = await store.claim({ workerId: 'w', limit: 3, leaseMs: 10_000 });
    await Promise.all(batch.map((entry) => telemetry.process(entry, async () => completed)));
    const consumed = (await collectMetrics()).get(METRIC.consumed)!.dataPoints;
    const of = (type: string) =>
      consumed.find((p) => p.attributes['messaging.destination.name'] === type)?.value;
    expect([of('batch.a'), of('batch.b')]).toEqual([2, 1]);
  });

  it('a span the sampler drops gets no outcome work, and the handler still runs in its context', async () => {
    register();
    const telemetry = newTelemetry();
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    // A stored context whose sampled flag is off: the parent-based sampler drops the run's span.
    const entry = await claimed(store, {
      ...newCommand({ commandType: 'unsampled' }),
      traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
    });
    let active: ReturnType<typeof trace.getActiveSpan>;
    const outcome = await telemetry.process(entry, async () => {
      active = trace.getActiveSpan();
      return { kind: 'failed', error: 'boom', permanent: false, exception: new Error('boom') };
    });
    expect(outcome.kind).toBe('failed');
    expect(active!.isRecording()).toBe(false);
    expect(active!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(spans.getFinishedSpans()).toEqual([]);
    const duration = (await collectMetrics()).get(METRIC.processDuration)!;
    expect(
      duration.dataPoints.find((p) => p.attributes['messaging.destination.name'] === 'unsampled')
        ?.attributes['scheduled_commands.outcome'],
    ).toBe('failed');
  });

  it('counts retries, dead letters and expiries from the lifecycle events, by command type only', async () => {
    register();
    const telemetry = newTelemetry();
    const published: object[] = [];
    const bus = new LifecycleEvents({
      publish: (event: object) => void published.push(event),
    } as unknown as EventBus);
    telemetry.listen(bus);
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    const entry = await claimed(store, newCommand({ commandType: 'count-me' }));
    bus.publish(new ScheduledCommandRetryingEvent(entry, 'e', 1, new Date()));
    bus.publish(new ScheduledCommandRetryingEvent(entry, 'e', 2, new Date()));
    bus.publish(new ScheduledCommandFailedEvent(entry, 'e', 2));
    bus.publish(new ScheduledCommandExpiredEvent(entry));
    telemetry.onModuleDestroy();
    bus.publish(new ScheduledCommandExpiredEvent(entry));
    const m = await collectMetrics();
    const value = (name: string) => m.get(name)!.dataPoints[0];
    expect(value(METRIC.retries).value).toBe(2);
    expect(value(METRIC.deadLetters).value).toBe(1);
    expect(value(METRIC.expired).value).toBe(1);
    expect(published).toHaveLength(5); // the application's EventBus got every event too
    expect(value(METRIC.retries).attributes).toEqual({
      'messaging.system': 'nestjs_scheduled_commands',
      'messaging.destination.name': 'count-me',
    });
  });

  it('reports entries per status, reading the store at most once per interval however often it is scraped', async () => {
    register();
    const telemetry = newTelemetry();
    expect(telemetry.active).toBe(true); // makes the instruments
    statusReads = 0;
    for (let i = 0; i < 3; i++) await collectMetrics();
    expect(statusReads).toBe(1);
    const gauge = (await collectMetrics()).get(METRIC.entries)!;
    const byStatus = Object.fromEntries(
      gauge.dataPoints.map((p) => [p.attributes['scheduled_commands.status'], p.value]),
    );
    expect(byStatus).toEqual({
      pending: 3,
      processing: 1,
      completed: 7,
      failed: 0,
      cancelled: 0,
      expired: 2,
    });
  });
});

/** Schedules `command`, lets `ms` pass after its due time, and claims it. */
async function claimedLater(
  store: InMemoryScheduledCommandStore,
  clock: ManualClock,
  command: NewScheduledCommand,
  ms: number,
): Promise<ScheduledCommandEntry> {
  await store.schedule(command);
  clock.advance(ms);
  const [entry] = await store.claim({ workerId: 'w', limit: 1, leaseMs: 10_000 });
  return entry;
}
