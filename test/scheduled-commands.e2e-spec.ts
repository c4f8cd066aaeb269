import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CommandSerializationError,
  InvalidCommandIdError,
  InvalidScheduleOptionsError,
  ScheduledCommandCancelledEvent,
  ScheduledCommandCompletedEvent,
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
  ScheduledCommandStatus,
  UnregisteredCommandError,
  type ScheduledCommandEntry,
} from 'nestjs-scheduled-commands';
import { ManualClock, newCommand } from 'nestjs-scheduled-commands/testing';
import { createTestApp, type TestApp } from './support/app.js';
import {
  allHandlers,
  FlakyCommand,
  Journal,
  LabelCommand,
  OrphanCommand,
  ProcessReportCommand,
  ReportResult,
  SendEmailCommand,
  UnregisteredCommand,
  WelcomeCommand,
} from './support/commands.js';

const T0 = new Date('2026-11-27T09:00:00.000Z');
const SECOND = 1000;

describe('scheduled commands on SQLite (seed sections, through the public API)', () => {
  let t: TestApp;
  let clock: ManualClock;
  let journal: Journal;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    t = await createTestApp({ options: { clock, workerId: 'worker-a' }, providers: allHandlers });
    journal = t.app.get(Journal);
  });

  afterEach(async () => {
    await t.close();
  });

  describe('scheduling', () => {
    it('runs a command scheduled for immediate execution, through CommandBus, as its own class', async () => {
      const id = await t.scheduler.schedule(new SendEmailCommand('a@b.c', 'Order Confirmed'));
      await t.runDue();
      expect(journal.names()).toEqual(['email:a@b.c']);
      const seen = journal.runs[0].command;
      expect(seen).toBeInstanceOf(SendEmailCommand);
      expect(seen).toEqual(expect.objectContaining({ to: 'a@b.c', subject: 'Order Confirmed' }));
      const entry = await t.entry(id);
      expect(entry).toMatchObject({
        status: 'completed',
        commandType: 'send-email',
        retryCount: 0,
        attempts: 1,
        errorMessage: null,
        lockedBy: null,
      });
      expect(entry.startedAt?.getTime()).toBe(T0.getTime());
      expect(entry.completedAt?.getTime()).toBe(T0.getTime());
    });

    it('runs a command scheduled for a specific time only once that time has come', async () => {
      const at = new Date(T0.getTime() + 3600 * SECOND);
      const id = await t.scheduler.schedule(new SendEmailCommand('c@d.e', 'Reminder'), {
        scheduledFor: at,
      });
      expect((await t.entry(id)).scheduledFor.getTime()).toBe(at.getTime());
      clock.advance(3600 * SECOND - 1);
      await t.runDue();
      expect(journal.runs).toHaveLength(0);
      clock.advance(1);
      await t.runDue();
      expect(journal.names()).toEqual(['email:c@d.e']);
    });

    it('runs a command scheduled with a delay after the delay', async () => {
      const id = await t.scheduler.schedule(new SendEmailCommand('d@e.f', 'Rate us'), {
        delay: 60 * SECOND,
      });
      expect((await t.entry(id)).scheduledFor.getTime()).toBe(T0.getTime() + 60 * SECOND);
      clock.advance(59 * SECOND);
      await t.runDue();
      expect(journal.runs).toHaveLength(0);
      clock.advance(SECOND);
      await t.runDue();
      expect((await t.entry(id)).status).toBe('completed');
    });

    it('lets a high-priority command overtake low-priority work in the worker', async () => {
      const low = await Promise.all(
        ['l1', 'l2', 'l3'].map((l) =>
          t.scheduler.schedule(new LabelCommand(l), { priority: 1, delay: 1000 }),
        ),
      );
      await t.scheduler.schedule(new LabelCommand('urgent'), { priority: 100, delay: 1000 });
      clock.advance(1000);
      await t.runDue();
      expect(journal.names()[0]).toBe('urgent');
      expect(journal.names().slice(1)).toEqual(['l1', 'l2', 'l3']);
      expect(low).toHaveLength(3);
    });
  });

  describe('retry, backoff and dead letters', () => {
    it('retries after 10 s, 20 s, 40 s, 80 s, 160 s and then dead-letters with a Failed event', async () => {
      const id = await t.scheduler.schedule(new FlakyCommand('always'), {
        maxRetries: 5,
        correlationId: 'corr-1',
        metadata: { userId: '42' },
      });
      const delays = [10, 20, 40, 80, 160];
      await t.runDue();
      for (let n = 1; n <= 5; n++) {
        const entry = await t.entry(id);
        expect(entry.status).toBe('pending');
        expect(entry.retryCount).toBe(n);
        expect(entry.errorMessage).toBe('flaky always failed');
        expect(entry.scheduledFor.getTime()).toBe(clock.now().getTime() + delays[n - 1] * SECOND);
        clock.advance(delays[n - 1] * SECOND - 1);
        await t.runDue();
        expect(journal.runs).toHaveLength(n);
        clock.advance(1);
        await t.runDue();
        expect(journal.runs).toHaveLength(n + 1);
      }
      const entry = await t.entry(id);
      expect(entry).toMatchObject({
        status: 'failed',
        retryCount: 5,
        attempts: 6,
        errorMessage: 'flaky always failed',
      });
      expect(journal.runs.map((r) => r.context?.attempt)).toEqual([1, 2, 3, 4, 5, 6]);

      const retrying = t.events.of(ScheduledCommandRetryingEvent);
      expect(retrying.map((e) => e.retryCount)).toEqual([1, 2, 3, 4, 5]);
      expect(retrying[0]).toMatchObject({
        commandId: id,
        commandType: 'flaky',
        correlationId: 'corr-1',
        metadata: { userId: '42' },
        error: 'flaky always failed',
      });
      const failed = t.events.of(ScheduledCommandFailedEvent);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        commandId: id,
        commandType: 'flaky',
        correlationId: 'corr-1',
        metadata: { userId: '42' },
        error: 'flaky always failed',
        retryCount: 5,
      });
      clock.advance(3600 * SECOND);
      await t.runDue();
      expect(journal.runs).toHaveLength(6);
    });

    it('uses the module default of 3 retries (4 runs) and completes when a retry succeeds', async () => {
      journal.failuresLeft.set('twice', 2);
      const ok = await t.scheduler.schedule(new FlakyCommand('twice'));
      const bad = await t.scheduler.schedule(new FlakyCommand('never'));
      expect((await t.entry(bad)).maxRetries).toBe(3);
      for (let i = 0; i < 6; i++) {
        await t.runDue();
        clock.advance(200 * SECOND);
      }
      expect(await t.entry(ok)).toMatchObject({ status: 'completed', retryCount: 2, attempts: 3 });
      expect(await t.scheduler.getResult<string>(ok)).toBe('twice');
      expect(await t.entry(bad)).toMatchObject({ status: 'failed', retryCount: 3, attempts: 4 });
      expect(journal.names().filter((n) => n === 'flaky:never')).toHaveLength(4);
    });

    it('dead-letters at once, without burning retries, a row whose name is unknown or whose payload is corrupt, and keeps going', async () => {
      const ghost = await t.store.schedule(
        newCommand({
          id: '0190b6a0-0000-7000-8000-000000000001',
          commandType: 'ghost-command',
          payload: '{}',
        }),
      );
      const corrupt = await t.store.schedule(
        newCommand({
          id: '0190b6a0-0000-7000-8000-000000000002',
          commandType: 'send-email',
          payload: '{"to": broken',
        }),
      );
      const orphan = await t.scheduler.schedule(new OrphanCommand(1));
      const fine = await t.scheduler.schedule(new SendEmailCommand('ok@x.y', 'still works'));
      await t.runDue();
      expect(await t.entry(ghost.id)).toMatchObject({ status: 'failed', retryCount: 0 });
      expect((await t.entry(ghost.id)).errorMessage).toMatch(
        /No class is registered under the command name "ghost-command"/,
      );
      expect(await t.entry(corrupt.id)).toMatchObject({ status: 'failed', retryCount: 0 });
      expect((await t.entry(corrupt.id)).errorMessage).toMatch(
        /stored payload of command "send-email" cannot be read/,
      );
      expect(await t.entry(orphan)).toMatchObject({ status: 'failed', retryCount: 0 });
      expect((await t.entry(orphan)).errorMessage).toMatch(
        /No @CommandHandler is registered for "orphan"/,
      );
      expect((await t.entry(fine)).status).toBe('completed');
      expect(t.events.of(ScheduledCommandFailedEvent)).toHaveLength(3);
      // The worker is still alive.
      await t.scheduler.schedule(new SendEmailCommand('after@x.y', 'later'));
      await t.runDue();
      expect(journal.names()).toContain('email:after@x.y');
    });
  });

  describe('expiry', () => {
    it('expires a command not started by scheduledFor + expiresAfter, never runs it, and publishes Expired', async () => {
      const id = await t.scheduler.schedule(new SendEmailCommand('promo@x.y', 'PROMO50'), {
        delay: 10 * SECOND,
        expiresAfter: 24 * 3600 * SECOND,
        correlationId: 'promo',
      });
      expect((await t.entry(id)).expiresAt?.getTime()).toBe(
        T0.getTime() + 10 * SECOND + 24 * 3600 * SECOND,
      );
      clock.advance(10 * SECOND + 24 * 3600 * SECOND);
      await t.runDue();
      expect(journal.runs).toHaveLength(0);
      expect((await t.entry(id)).status).toBe('expired');
      const [event] = t.events.of(ScheduledCommandExpiredEvent);
      expect(event).toMatchObject({
        commandId: id,
        commandType: 'send-email',
        correlationId: 'promo',
      });
    });

    it('runs it when started in time, and expires a retry that comes too late', async () => {
      const inTime = await t.scheduler.schedule(new SendEmailCommand('in@time', 'x'), {
        expiresAfter: 5 * SECOND,
      });
      clock.advance(4 * SECOND);
      await t.runDue();
      expect((await t.entry(inTime)).status).toBe('completed');

      const late = await t.scheduler.schedule(new FlakyCommand('late'), {
        expiresAfter: 15 * SECOND,
      });
      await t.runDue(); // attempt 1 fails, retry due in 10 s (before expiry)
      clock.advance(10 * SECOND);
      await t.runDue(); // attempt 2 fails, retry due in 20 s (after expiry)
      expect((await t.entry(late)).retryCount).toBe(2);
      clock.advance(20 * SECOND);
      await t.runDue();
      expect((await t.entry(late)).status).toBe('expired');
      expect(journal.names().filter((n) => n === 'flaky:late')).toHaveLength(2);
    });
  });

  describe('cancel and status', () => {
    it('cancels a pending command (also one waiting for a retry), publishes Cancelled, and it never runs', async () => {
      const id = await t.scheduler.schedule(new SendEmailCommand('r@x.y', 'Reminder'), {
        delay: 7 * 86_400 * SECOND,
      });
      expect(await t.scheduler.cancel(id)).toBe(true);
      expect(await t.scheduler.cancel(id)).toBe(false);
      clock.advance(8 * 86_400 * SECOND);
      await t.runDue();
      expect(journal.runs).toHaveLength(0);
      expect((await t.entry(id)).status).toBe('cancelled');
      expect(t.events.of(ScheduledCommandCancelledEvent).map((e) => e.commandId)).toEqual([id]);

      const retrying = await t.scheduler.schedule(new FlakyCommand('x'));
      await t.runDue();
      expect((await t.entry(retrying)).retryCount).toBe(1);
      expect(await t.scheduler.cancel(retrying)).toBe(true);
      clock.advance(3600 * SECOND);
      await t.runDue();
      expect(journal.names().filter((n) => n === 'flaky:x')).toHaveLength(1);
    });

    it('races cancel against the worker: each command is either cancelled and never runs, or runs and cancel says false', async () => {
      const ids = await t.scheduler.scheduleMany(
        Array.from({ length: 40 }, (_, i) => ({
          command: new LabelCommand(`c${i}`),
          options: { delay: 10 },
        })),
      );
      clock.advance(10);
      const [cancelled] = await Promise.all([
        Promise.all(ids.map((id) => t.scheduler.cancel(id))),
        t.runDue(),
      ]);
      await t.runDue();
      const ran = new Set(journal.names());
      for (let i = 0; i < ids.length; i++) {
        const entry = await t.entry(ids[i]);
        if (cancelled[i]) {
          expect(entry.status).toBe('cancelled');
          expect(ran.has(`c${i}`)).toBe(false);
        } else {
          expect(entry.status).toBe('completed');
          expect(ran.has(`c${i}`)).toBe(true);
        }
      }
      expect(journal.runs).toHaveLength(ran.size);
      expect(t.events.of(ScheduledCommandCancelledEvent)).toHaveLength(
        cancelled.filter(Boolean).length,
      );
    });

    it('cannot cancel a completed command; unknown ids give false/null; malformed ids throw', async () => {
      const id = await t.scheduler.schedule(new SendEmailCommand('z@x.y', 'z'));
      await t.runDue();
      expect(await t.scheduler.cancel(id)).toBe(false);
      expect((await t.entry(id)).status).toBe('completed');
      const unknown = '0190b6a0-0000-7000-8000-00000000abcd';
      expect(await t.scheduler.cancel(unknown)).toBe(false);
      expect(await t.scheduler.getStatus(unknown)).toBeNull();
      expect(await t.scheduler.getResult(unknown)).toBeUndefined();
      await expect(t.scheduler.cancel('not-an-id')).rejects.toBeInstanceOf(InvalidCommandIdError);
      await expect(t.scheduler.getStatus('')).rejects.toBeInstanceOf(InvalidCommandIdError);
    });
  });

  describe('results', () => {
    it('stores a handler result with Dates and nested objects and returns it from getResult and the Completed event', async () => {
      const cmd = new ProcessReportCommand(
        'sales',
        new Date('2026-11-01T00:00:00.000Z'),
        new Date('2026-11-27T00:00:00.000Z'),
        {
          regions: ['eu', 'us'],
          options: { currency: 'EUR' },
        },
      );
      const id = await t.scheduler.schedule(cmd);
      expect(await t.scheduler.getResult(id)).toBeUndefined();
      await t.runDue();
      const received = journal.runs[0].command as ProcessReportCommand;
      expect(received).toBeInstanceOf(ProcessReportCommand);
      expect(received.startDate).toBeInstanceOf(Date);
      expect(received.startDate.toISOString()).toBe('2026-11-01T00:00:00.000Z');
      expect(received.filters).toEqual({ regions: ['eu', 'us'], options: { currency: 'EUR' } });
      expect(received.days()).toBe(26);

      const result = await t.scheduler.getResult<ReportResult>(id);
      expect(result).toEqual({
        title: 'sales (26 days)',
        generatedAt: new Date('2026-11-27T12:00:00.000Z'),
        sections: [
          {
            name: 'eu+us',
            rows: [1, 2, 3],
            period: {
              from: new Date('2026-11-01T00:00:00.000Z'),
              to: new Date('2026-11-27T00:00:00.000Z'),
            },
          },
        ],
      });
      expect(result!.generatedAt).toBeInstanceOf(Date);
      expect(result!.sections[0].period.to).toBeInstanceOf(Date);
      const [event] = t.events.of(ScheduledCommandCompletedEvent);
      expect(event).toMatchObject({
        commandId: id,
        commandType: 'process-report',
        correlationId: null,
        metadata: null,
      });
      expect((event.result as ReportResult).title).toBe('sales (26 days)');
      expect(JSON.parse((await t.entry(id)).resultPayload!).title).toBe('sales (26 days)');
    });
  });

  describe('idempotency, metadata and monitoring', () => {
    it('returns the live entry for the same idempotency key (option or command property) and stores nothing new', async () => {
      const a = await t.scheduler.schedule(new SendEmailCommand('i@x.y', 'once'), {
        idempotencyKey: 'email:i',
        delay: 1000,
      });
      const b = await t.scheduler.schedule(new SendEmailCommand('i@x.y', 'twice'), {
        idempotencyKey: 'email:i',
      });
      expect(b).toBe(a);
      const w1 = await t.scheduler.schedule(new WelcomeCommand('42'), { delay: 1000 });
      const w2 = await t.scheduler.schedule(new WelcomeCommand('42'), { delay: 1000 });
      const w3 = await t.scheduler.schedule(new WelcomeCommand('43'), { delay: 1000 });
      expect(w2).toBe(w1);
      expect(w3).not.toBe(w1);
      expect((await t.entry(w1)).idempotencyKey).toBe('welcome:42');
      expect(await t.store.getPendingCount()).toBe(3);
      const racing = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.scheduler.schedule(new WelcomeCommand('race'), { delay: 1000 }),
        ),
      );
      expect(new Set(racing).size).toBe(1);
      expect(await t.store.getPendingCount()).toBe(4);
      // Once finished, the key is free again.
      clock.advance(1000);
      await t.runDue();
      const again = await t.scheduler.schedule(new WelcomeCommand('42'));
      expect(again).not.toBe(w1);
    });

    it('keeps correlationId and metadata on the entry and on every event', async () => {
      const id = await t.scheduler.schedule(new SendEmailCommand('m@x.y', 'meta'), {
        correlationId: 'req-7',
        metadata: { UserId: 'u1', Source: 'WebHook' },
      });
      expect(await t.entry(id)).toMatchObject({
        correlationId: 'req-7',
        metadata: { UserId: 'u1', Source: 'WebHook' },
      });
      await t.runDue();
      expect(t.events.of(ScheduledCommandCompletedEvent)[0]).toMatchObject({
        correlationId: 'req-7',
        metadata: { UserId: 'u1', Source: 'WebHook' },
      });
      expect(journal.runs[0].context).toMatchObject({
        commandId: id,
        correlationId: 'req-7',
        metadata: { UserId: 'u1', Source: 'WebHook' },
        attempt: 1,
      });
    });

    it('answers the monitoring counts of the seed', async () => {
      await t.scheduler.schedule(new SendEmailCommand('1@x', 'a'), { delay: 1000 });
      await t.scheduler.schedule(new SendEmailCommand('2@x', 'b'), { delay: 1000 });
      await t.scheduler.schedule(new FlakyCommand('dead'), { maxRetries: 0 });
      await t.scheduler.schedule(new SendEmailCommand('3@x', 'c'));
      await t.runDue();
      expect({
        pending: await t.store.getPendingCount(),
        failed: await t.store.getFailedCount(),
        processing: await t.store.getProcessingCount(),
      }).toEqual({ pending: 2, failed: 1, processing: 0 });
      expect(await t.store.countByStatus()).toEqual({
        pending: 2,
        processing: 0,
        completed: 1,
        failed: 1,
        cancelled: 0,
        expired: 0,
      });
    });
  });

  describe('bad input gets a typed error and stores nothing', () => {
    const cases: [string, () => Promise<unknown>, new (...a: never[]) => Error, string?][] = [
      [
        'an invalid Date',
        () => t.scheduler.schedule(new SendEmailCommand('a', 'b'), { scheduledFor: new Date('x') }),
        InvalidScheduleOptionsError,
        'scheduledFor',
      ],
      [
        'both scheduledFor and delay',
        () =>
          t.scheduler.schedule(new SendEmailCommand('a', 'b'), {
            scheduledFor: new Date(),
            delay: 1,
          }),
        InvalidScheduleOptionsError,
        'scheduledFor',
      ],
      [
        'a negative delay',
        () => t.scheduler.schedule(new SendEmailCommand('a', 'b'), { delay: -1 }),
        InvalidScheduleOptionsError,
        'delay',
      ],
      [
        'a non-finite expiresAfter',
        () => t.scheduler.schedule(new SendEmailCommand('a', 'b'), { expiresAfter: Infinity }),
        InvalidScheduleOptionsError,
        'expiresAfter',
      ],
      [
        'expiresAfter: 0 (it would expire the moment it became due)',
        () => t.scheduler.schedule(new SendEmailCommand('a', 'b'), { expiresAfter: 0 }),
        InvalidScheduleOptionsError,
        'expiresAfter',
      ],
      [
        'a non-integer priority',
        () => t.scheduler.schedule(new SendEmailCommand('a', 'b'), { priority: 0.5 }),
        InvalidScheduleOptionsError,
        'priority',
      ],
      [
        'negative maxRetries',
        () => t.scheduler.schedule(new SendEmailCommand('a', 'b'), { maxRetries: -2 }),
        InvalidScheduleOptionsError,
        'maxRetries',
      ],
      [
        'a non-string metadata value',
        () =>
          t.scheduler.schedule(new SendEmailCommand('a', 'b'), {
            metadata: { n: 1 as unknown as string },
          }),
        InvalidScheduleOptionsError,
        'metadata.n',
      ],
      [
        'an unregistered command class',
        () => t.scheduler.schedule(new UnregisteredCommand(1)),
        UnregisteredCommandError,
      ],
      ['a plain object', () => t.scheduler.schedule({ to: 'x' }), UnregisteredCommandError],
      [
        'a BigInt field',
        () => t.scheduler.schedule(new SendEmailCommand(1n as unknown as string, 'b')),
        CommandSerializationError,
      ],
      [
        'a function field',
        () => t.scheduler.schedule(Object.assign(new SendEmailCommand('a', 'b'), { cb: () => 1 })),
        CommandSerializationError,
      ],
      [
        'a cycle',
        () => {
          const cmd = new SendEmailCommand('a', 'b') as SendEmailCommand & { self?: unknown };
          cmd.self = cmd;
          return t.scheduler.schedule(cmd);
        },
        CommandSerializationError,
      ],
      [
        'one bad item in scheduleMany',
        () =>
          t.scheduler.scheduleMany([
            { command: new SendEmailCommand('a', 'b') },
            { command: new SendEmailCommand('c', 'd'), options: { delay: -5 } },
          ]),
        InvalidScheduleOptionsError,
        'delay',
      ],
    ];

    it.each(cases)('%s', async (_name, act, type, field) => {
      const error = await act().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(type);
      if (field) expect((error as InvalidScheduleOptionsError).field).toBe(field);
      expect((error as Error).message.length).toBeGreaterThan(20);
      expect((await t.store.getStatistics()).total).toBe(0);
    });
  });
});

describe('the store seen by a schedule-only instance (enabled: false)', () => {
  let t: TestApp;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    t = await createTestApp({ options: { clock, enabled: false }, providers: allHandlers });
  });

  afterEach(async () => {
    await t.close();
  });

  it('never runs commands itself', async () => {
    const id = await t.scheduler.schedule(new SendEmailCommand('x@y', 'z'));
    await t.runDue();
    expect(t.poller.isRunning).toBe(false);
    expect((await t.entry(id)).status).toBe('pending');
  });

  it('runs higher priority first, then earlier due time, then creation order', async () => {
    await t.scheduler.schedule(new LabelCommand('low-1'), { priority: 1, delay: 10 });
    await t.scheduler.schedule(new LabelCommand('none-early'), { delay: 5 });
    await t.scheduler.schedule(new LabelCommand('low-2'), { priority: 1, delay: 10 });
    await t.scheduler.schedule(new LabelCommand('high'), { priority: 10, delay: 10 });
    await t.scheduler.schedule(new LabelCommand('low-early'), { priority: 1, delay: 1 });
    await t.scheduler.schedule(new LabelCommand('negative'), { priority: -3, delay: 0 });
    clock.advance(10);
    // Claim one at a time to observe the claim order exactly.
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const [entry] = await t.store.claim({ workerId: 'probe', limit: 1, leaseMs: 60_000 });
      order.push(JSON.parse(entry.payload).label);
    }
    expect(order).toEqual(['high', 'low-early', 'low-1', 'low-2', 'none-early', 'negative']);
  });

  it('walks the status switch of the seed: pending → processing → completed', async () => {
    const id = await t.scheduler.schedule(new SendEmailCommand('s@x.y', 's'));
    expect((await t.entry(id)).status).toBe(ScheduledCommandStatus.Pending);
    const [claimed] = await t.store.claim({ workerId: 'probe', limit: 1, leaseMs: 30_000 });
    expect(claimed.id).toBe(id);
    expect((await t.entry(id)).status).toBe(ScheduledCommandStatus.Processing);
    expect((await t.entry(id)).lockedBy).toBe('probe');
    await t.store.complete([{ lease: { id, workerId: 'probe', attempt: 1 }, resultPayload: null }]);
    expect((await t.entry(id)).status).toBe(ScheduledCommandStatus.Completed);
  });
});
