import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidCommandIdError,
  InvalidScheduleOptionsError,
  ScheduledCommandRequeuedEvent,
  ScheduledCommandRescheduledEvent,
  type ScheduledCommandEntry,
} from 'nestjs-scheduled-commands';
import { ManualClock } from 'nestjs-scheduled-commands/testing';
import { createTestApp, type TestApp } from './support/app.js';
import {
  allHandlers,
  FlakyCommand,
  GateCommand,
  Gates,
  Journal,
  LabelCommand,
  SendEmailCommand,
} from './support/commands.js';

const T0 = new Date('2026-11-27T09:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const UNKNOWN = '0190b6a0-0000-7000-8000-00000000ffff';

describe('managing entries (SQLite, through the public API)', () => {
  let t: TestApp;
  let clock: ManualClock;
  let journal: Journal;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    t = await createTestApp({
      options: {
        clock,
        workerId: 'w',
        maxRetries: 1,
        retention: { completed: 7 * DAY, failed: 30 * DAY, cancelled: 30 * DAY, expired: 30 * DAY },
      },
      providers: allHandlers,
    });
    journal = t.app.get(Journal);
  });

  afterEach(async () => {
    await t.close();
  });

  /** Runs due work until nothing changes (retries with the manual clock moved past each delay). */
  const deadLetter = async (key: string): Promise<string> => {
    const id = await t.scheduler.schedule(new FlakyCommand(key), { maxRetries: 1 });
    await t.runDue();
    clock.advance(HOUR);
    await t.runDue();
    expect((await t.entry(id)).status).toBe('failed');
    return id;
  };

  describe('reschedule', () => {
    it('moves a pending command to a new time or delay, publishes Rescheduled, and it runs then', async () => {
      const id = await t.scheduler.schedule(new LabelCommand('moved'), { delay: HOUR });
      expect(await t.scheduler.reschedule(id, { delay: 2 * HOUR })).toBe(true);
      expect((await t.entry(id)).scheduledFor.getTime()).toBe(T0.getTime() + 2 * HOUR);
      clock.advance(HOUR);
      await t.runDue();
      expect(journal.names()).toEqual([]);
      const at = new Date(T0.getTime() + 3 * HOUR);
      expect(await t.scheduler.reschedule(id, { scheduledFor: at })).toBe(true);
      expect(
        t.events.of(ScheduledCommandRescheduledEvent).map((e) => e.scheduledFor.getTime()),
      ).toEqual([T0.getTime() + 2 * HOUR, at.getTime()]);
      clock.set(at);
      await t.runDue();
      expect(journal.names()).toEqual(['moved']);
    });

    it('moves a command waiting for its retry, and refuses completed, cancelled and unknown ones', async () => {
      const retrying = await t.scheduler.schedule(new FlakyCommand('r'), { maxRetries: 2 });
      await t.runDue();
      expect((await t.entry(retrying)).retryCount).toBe(1);
      expect(await t.scheduler.reschedule(retrying, { delay: 0 })).toBe(true);
      await t.runDue();
      expect((await t.entry(retrying)).retryCount).toBe(2);

      const done = await t.scheduler.schedule(new LabelCommand('done'));
      await t.runDue();
      expect(await t.scheduler.reschedule(done, { delay: 5 })).toBe(false);
      const cancelled = await t.scheduler.schedule(new LabelCommand('c'), { delay: HOUR });
      await t.scheduler.cancel(cancelled);
      expect(await t.scheduler.reschedule(cancelled, { delay: 5 })).toBe(false);
      expect(await t.scheduler.reschedule(UNKNOWN, { delay: 5 })).toBe(false);
      await expect(t.scheduler.reschedule('nope', { delay: 5 })).rejects.toBeInstanceOf(
        InvalidCommandIdError,
      );
      await expect(t.scheduler.reschedule(cancelled, { delay: -5 })).rejects.toBeInstanceOf(
        InvalidScheduleOptionsError,
      );
      await expect(t.scheduler.reschedule(cancelled, {} as never)).rejects.toBeInstanceOf(
        InvalidScheduleOptionsError,
      );
    });

    it('races with a claim: exactly one wins, and the command runs once', async () => {
      for (let i = 0; i < 20; i++) {
        const id = await t.scheduler.schedule(new LabelCommand(`race-${i}`), { delay: 10 });
        clock.advance(10);
        const [moved] = await Promise.all([
          t.scheduler.reschedule(id, { delay: HOUR }),
          t.runDue(),
        ]);
        const e = await t.entry(id);
        if (moved) expect(e).toMatchObject({ status: 'pending', attempts: 0 });
        else expect(e.status).toBe('completed');
      }
      clock.advance(2 * HOUR);
      await t.runDue();
      const names = journal.names();
      expect(names).toHaveLength(20);
      expect(new Set(names).size).toBe(20);
    });
  });

  describe('retry dead letters', () => {
    it('puts a failed command back to pending now with a fresh retry budget, keeping its history', async () => {
      const id = await deadLetter('dlq');
      const before = await t.entry(id);
      expect(before).toMatchObject({
        retryCount: 1,
        attempts: 2,
        errorMessage: 'flaky dlq failed',
      });
      journal.failuresLeft.set('dlq', 0);
      expect(await t.scheduler.retry(id)).toBe(true);
      const [event] = t.events.of(ScheduledCommandRequeuedEvent);
      expect(event).toMatchObject({
        commandId: id,
        previousStatus: 'failed',
        commandType: 'flaky',
      });
      await t.runDue();
      const after = await t.entry(id);
      expect(after).toMatchObject({
        status: 'completed',
        retryCount: 0,
        attempts: 3,
        errorMessage: 'flaky dlq failed',
      });
      expect(after.scheduledFor.getTime()).toBe(clock.now().getTime());
      expect(journal.runs.at(-1)?.context?.attempt).toBe(3);
      expect(await t.scheduler.getResult(id)).toBe('dlq');
    });

    it('re-runs expired and cancelled commands only when asked, and refuses pending, completed and unknown ones', async () => {
      const cancelled = await t.scheduler.schedule(new LabelCommand('was-cancelled'), {
        delay: HOUR,
      });
      await t.scheduler.cancel(cancelled);
      const expired = await t.scheduler.schedule(new LabelCommand('was-expired'), {
        delay: 10,
        expiresAfter: 1,
      });
      clock.advance(20);
      await t.runDue();
      expect((await t.entry(expired)).status).toBe('expired');
      expect(await t.scheduler.retry(cancelled)).toBe(false);
      expect(await t.scheduler.retry(expired)).toBe(false);
      expect(await t.scheduler.retry(cancelled, { statuses: ['cancelled'] })).toBe(true);
      expect(await t.scheduler.retry(expired, { statuses: ['expired', 'failed'] })).toBe(true);
      expect((await t.entry(expired)).expiresAt).toBeNull();
      await t.runDue();
      expect(journal.names().sort()).toEqual(['was-cancelled', 'was-expired']);

      const pending = await t.scheduler.schedule(new LabelCommand('p'), { delay: HOUR });
      expect(await t.scheduler.retry(pending)).toBe(false);
      expect(await t.scheduler.retry(cancelled)).toBe(false); // completed now
      expect(await t.scheduler.retry(UNKNOWN)).toBe(false);
      await expect(
        t.scheduler.retry(pending, { statuses: ['pending' as never] }),
      ).rejects.toBeInstanceOf(InvalidScheduleOptionsError);
    });

    it('retryFailed requeues every dead letter matching a filter, up to a limit', async () => {
      const a = await deadLetter('a');
      const b = await deadLetter('b');
      await t.scheduler.schedule(new SendEmailCommand('x', 'y'), { delay: HOUR });
      journal.failuresLeft.set('a', 0);
      journal.failuresLeft.set('b', 0);
      expect(await t.scheduler.retryFailed({ commandType: 'send-email' })).toEqual([]);
      const first = await t.scheduler.retryFailed({ commandType: 'flaky' }, { limit: 1 });
      expect(first).toHaveLength(1);
      const rest = await t.scheduler.retryFailed();
      expect([...first, ...rest].sort()).toEqual([a, b].sort());
      await t.runDue();
      expect((await t.entry(a)).status).toBe('completed');
      expect((await t.entry(b)).status).toBe('completed');
      await expect(t.scheduler.retryFailed({ status: 'failed' } as never)).rejects.toBeInstanceOf(
        InvalidScheduleOptionsError,
      );
    });

    it('retry racing a claim never runs the command twice at once', async () => {
      const id = await deadLetter('race');
      journal.failuresLeft.set('race', 0);
      const runsBefore = journal.runs.length;
      const results = await Promise.all([t.scheduler.retry(id), t.scheduler.retry(id), t.runDue()]);
      expect(results.filter((r) => r === true)).toHaveLength(1);
      await t.runDue();
      expect(journal.runs.length - runsBefore).toBe(1);
      expect((await t.entry(id)).status).toBe('completed');
    });
  });

  describe('find and statistics', () => {
    it('lists entries newest first with filters and cursor paging that sees every row once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push(
          await t.scheduler.schedule(new LabelCommand(`l${i}`), {
            delay: (i + 1) * HOUR,
            correlationId: i % 2 ? 'odd' : 'even',
          }),
        );
      }
      const email = await t.scheduler.schedule(new SendEmailCommand('e', 'f'), { delay: HOUR });
      const all = await t.scheduler.find();
      expect(all.items.map((e) => e.id)).toEqual([email, ...[...ids].reverse()]);
      expect(all.nextCursor).toBeNull();

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await t.scheduler.find({ commandType: 'label' }, { limit: 3, cursor });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());

      expect((await t.scheduler.find({ correlationId: 'odd' })).items).toHaveLength(3);
      expect(
        (
          await t.scheduler.find({
            status: ['pending'],
            scheduledBefore: new Date(T0.getTime() + 2 * HOUR),
          })
        ).items
          .map((e) => e.id)
          .sort(),
      ).toEqual([ids[0], email].sort());
      expect(
        (await t.scheduler.find({ scheduledAfter: new Date(T0.getTime() + 6 * HOUR) })).items.map(
          (e) => e.id,
        ),
      ).toEqual([ids[6], ids[5]]);
      expect(
        (await t.scheduler.find({}, { order: 'asc', limit: 2 })).items.map((e) => e.id),
      ).toEqual([ids[0], ids[1]]);
      expect((await t.scheduler.find({}, { offset: 6 })).items.map((e) => e.id)).toEqual([
        ids[1],
        ids[0],
      ]);
      await expect(t.scheduler.find({ status: 'done' as never })).rejects.toBeInstanceOf(
        InvalidScheduleOptionsError,
      );
      await expect(t.scheduler.find({}, { limit: 0 })).rejects.toBeInstanceOf(
        InvalidScheduleOptionsError,
      );
    });

    it('reports counts per status, total, oldest pending, retries waiting and the due backlog', async () => {
      await t.scheduler.schedule(new LabelCommand('due-later'), { delay: HOUR });
      await t.scheduler.schedule(new FlakyCommand('wait'), { maxRetries: 3 });
      await t.runDue();
      await t.scheduler.schedule(new LabelCommand('ok'));
      await t.runDue();
      const gates = t.app.get(Gates);
      await t.scheduler.schedule(new GateCommand('busy'));
      while (!gates.started.includes('busy')) await new Promise((r) => setTimeout(r, 5));
      const stats = await t.scheduler.getStatistics();
      expect(stats.counts.completed).toBe(1);
      expect(stats.counts.pending).toBe(2);
      expect(stats.counts.processing).toBe(1);
      expect(stats.total).toBe(4);
      expect(stats.waitingForRetry).toBe(1);
      expect(stats.oldestPendingScheduledFor?.getTime()).toBe(T0.getTime() + 10_000);
      clock.advance(2 * HOUR);
      expect((await t.scheduler.getStatistics()).dueNow).toBe(2);
      gates.open('busy');
      await t.poller.drain();
    });
  });

  describe('purge and retention', () => {
    it('purges finished entries older than a date, never pending or processing ones', async () => {
      const done = await t.scheduler.schedule(new LabelCommand('done'));
      await t.runDue();
      const failed = await deadLetter('old');
      const pending = await t.scheduler.schedule(new LabelCommand('pending'), { delay: 10 * DAY });
      clock.advance(DAY);
      const recent = await t.scheduler.schedule(new LabelCommand('recent'));
      await t.runDue();
      expect(await t.scheduler.purge(new Date(clock.now().getTime() - HOUR), ['completed'])).toBe(
        1,
      );
      expect(await t.scheduler.getStatus(done)).toBeNull();
      expect(await t.scheduler.getStatus(failed)).not.toBeNull();
      expect(await t.scheduler.purge(new Date(clock.now().getTime() + 1))).toBe(2);
      expect(await t.scheduler.getStatus(recent)).toBeNull();
      expect(await t.scheduler.getStatus(failed)).toBeNull();
      expect((await t.entry(pending)).status).toBe('pending');
      await expect(t.scheduler.purge(clock.now(), ['pending' as never])).rejects.toBeInstanceOf(
        InvalidScheduleOptionsError,
      );
      await expect(t.scheduler.purge(new Date('x'))).rejects.toBeInstanceOf(
        InvalidScheduleOptionsError,
      );
    });

    it('lets the worker purge completed entries after 7 days and failed ones after 30 days', async () => {
      const done = await t.scheduler.schedule(new LabelCommand('done'));
      await t.runDue();
      const failed = await deadLetter('kept');
      clock.advance(7 * DAY + HOUR);
      await t.runDue();
      expect(await t.scheduler.getStatus(done)).toBeNull();
      expect(await t.scheduler.getStatus(failed)).not.toBeNull();
      clock.advance(23 * DAY);
      await t.runDue();
      expect(await t.scheduler.getStatus(failed)).toBeNull();
    });

    it('purging while a command runs never removes it, and its completion is still written', async () => {
      const gates = t.app.get(Gates);
      const id = await t.scheduler.schedule(new GateCommand('long'));
      const run = t.runDue();
      while (!gates.started.includes('long')) await new Promise((r) => setTimeout(r, 5));
      expect(await t.scheduler.purge(new Date(clock.now().getTime() + DAY))).toBe(0);
      gates.open('long');
      await run;
      expect((await t.entry(id)).status).toBe('completed');
    });
  });
});
