import { EventBus, type IEventPublisher } from '@nestjs/cqrs';
import { ScheduledCommandCompletedEvent } from 'nestjs-scheduled-commands';
import { ManualClock } from 'nestjs-scheduled-commands/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlakyCommand, LabelCommand } from './support/commands.js';
import {
  createDashboardApp,
  DashboardClient,
  type AdapterName,
  type DashboardApp,
} from './support/dashboard.js';

const T0 = new Date('2026-11-27T09:00:00.000Z');
const HOUR = 3_600_000;
const UNKNOWN = '0190b6a0-0000-7000-8000-00000000ffff';

describe.each<AdapterName>(['express', 'fastify'])('dashboard API on %s', (adapter) => {
  let t: DashboardApp;
  let clock: ManualClock;
  let admin: DashboardClient;
  let viewer: DashboardClient;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    t = await createDashboardApp({ adapter, options: { clock, maxRetries: 0 } });
    admin = new DashboardClient(t.url, { 'x-user': 'admin' });
    viewer = new DashboardClient(t.url, { 'x-user': 'viewer' });
    await admin.session();
    await viewer.session();
  });

  afterAll(async () => {
    await t?.close();
  });

  const status = async (id: string) => (await t.scheduler.getStatus(id))!.status;

  /** A flaky command that fails once (dead-lettered: maxRetries 0) and succeeds when retried. */
  const deadLetter = async (key: string): Promise<string> => {
    t.journal.failuresLeft.set(key, 1);
    const id = await t.scheduler.schedule(new FlakyCommand(key));
    await t.runDue();
    expect(await status(id)).toBe('failed');
    return id;
  };

  describe('the page', () => {
    it('is served with a strict Content-Security-Policy, no inline script or style, and a base under the mount path', async () => {
      const response = await fetch(t.url.slice(0, -1), { headers: { 'x-user': 'viewer' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      const html = await response.text();
      expect(html).toContain('<base href="/admin/jobs/">');
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts).toHaveLength(1);
      for (const [, attrs, body] of scripts) {
        expect(attrs).toContain('src="assets/app.js"');
        expect(body.trim()).toBe('');
      }
      expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    });

    it('serves the shipped assets with their types and validators, and nothing else', async () => {
      const js = await fetch(`${t.url}assets/app.js`, { headers: { 'x-user': 'viewer' } });
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(await js.text()).toContain('function route()');
      const again = await fetch(`${t.url}assets/app.js`, {
        headers: { 'x-user': 'viewer', 'if-none-match': js.headers.get('etag')! },
      });
      expect(again.status).toBe(304);
      const css = await fetch(`${t.url}assets/app.css`, { headers: { 'x-user': 'viewer' } });
      expect(css.headers.get('content-type')).toMatch(/text\/css/);
      const other = await fetch(`${t.url}assets/..%2Fdashboard.module.ts`, {
        headers: { 'x-user': 'viewer' },
      });
      expect(other.status).toBe(404);
    });
  });

  describe('access', () => {
    it("answers 403 everywhere to 'none' (no user), page, assets, reads and actions alike", async () => {
      const nobody = new DashboardClient(t.url);
      expect((await nobody.session()).status).toBe(403);
      expect((await fetch(t.url.slice(0, -1))).status).toBe(403);
      for (const path of [
        'assets/app.js',
        'api/overview',
        'api/entries',
        `api/entries/${UNKNOWN}`,
      ]) {
        expect((await nobody.get(path)).status, path).toBe(403);
      }
      const id = await deadLetter('nobody');
      nobody.token = admin.token;
      expect((await nobody.post(`api/entries/${id}/retry`)).status).toBe(403);
      expect(await status(id)).toBe('failed');
    });

    it('keeps the host app guards: a request they refuse gets 403 even with full access', async () => {
      const blocked = new DashboardClient(t.url, { 'x-user': 'admin', 'x-blocked': '1' });
      expect((await blocked.get('api/overview')).status).toBe(403);
      expect((await admin.get('api/overview')).status).toBe(200);
    });

    it('lets a read-only user read everything and refuses every action with 403', async () => {
      expect((await viewer.session()).body.access).toBe('read-only');
      const id = await deadLetter('viewer');
      expect((await viewer.get(`api/entries/${id}`)).body.status).toBe('failed');
      expect((await viewer.post(`api/entries/${id}/retry`)).status).toBe(403);
      expect((await viewer.post('api/bulk/retry-failed', {})).status).toBe(403);
      expect((await viewer.post('api/bulk/purge', { olderThan: T0.toISOString() })).status).toBe(
        403,
      );
      expect(await status(id)).toBe('failed');
    });

    it('refuses an action without its CSRF token, with a wrong one, or without the cookie', async () => {
      const id = await deadLetter('csrf');
      expect((await admin.post(`api/entries/${id}/retry`, {}, { csrf: false })).status).toBe(403);
      const forged = new DashboardClient(t.url, { 'x-user': 'admin' });
      forged.token = admin.token; // the right value, but no cookie
      expect((await forged.post(`api/entries/${id}/retry`)).status).toBe(403);
      await forged.session(); // its own cookie now, and the other session's token
      forged.token = admin.token;
      expect((await forged.post(`api/entries/${id}/retry`)).status).toBe(403);
      expect(await status(id)).toBe('failed');
      expect((await admin.post(`api/entries/${id}/retry`)).status).toBe(200);
      expect(await status(id)).not.toBe('failed');
    });
  });

  describe('actions', () => {
    it('retry requeues a dead-lettered command, which then runs and completes', async () => {
      const id = await deadLetter('retry');
      expect((await admin.post(`api/entries/${id}/retry`)).body).toEqual({ ok: true });
      await t.runDue();
      expect(await status(id)).toBe('completed');
      expect((await admin.get(`api/entries/${id}`)).body.result).toBe('retry');
      const again = await admin.post(`api/entries/${id}/retry`);
      expect(again.status).toBe(409);
    });

    it('cancel cancels a pending command once (409 after), 404 for an unknown id, 400 for a malformed one', async () => {
      const id = await t.scheduler.schedule(new LabelCommand('cancel'), { delay: HOUR });
      expect((await admin.post(`api/entries/${id}/cancel`)).status).toBe(200);
      expect(await status(id)).toBe('cancelled');
      expect((await admin.post(`api/entries/${id}/cancel`)).status).toBe(409);
      expect((await admin.post(`api/entries/${UNKNOWN}/cancel`)).status).toBe(404);
      const bad = await admin.post('api/entries/not-an-id/cancel');
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/id/i);
    });

    it('run now makes a later command due, and the worker runs it', async () => {
      const id = await t.scheduler.schedule(new LabelCommand('now'), { delay: HOUR });
      await t.runDue();
      expect(await status(id)).toBe('pending');
      expect((await admin.post(`api/entries/${id}/run-now`)).status).toBe(200);
      await t.runDue();
      expect(await status(id)).toBe('completed');
    });

    it('reschedule moves a pending command to the time given, and refuses an invalid time', async () => {
      const id = await t.scheduler.schedule(new LabelCommand('later'), { delay: HOUR });
      const at = new Date(T0.getTime() + 5 * HOUR);
      const bad = await admin.post(`api/entries/${id}/reschedule`, { scheduledFor: 'tomorrow' });
      expect(bad.status).toBe(400);
      expect((await t.scheduler.getStatus(id))!.scheduledFor.getTime()).toBe(T0.getTime() + HOUR);
      const ok = await admin.post(`api/entries/${id}/reschedule`, {
        scheduledFor: at.toISOString(),
      });
      expect(ok.status).toBe(200);
      expect((await t.scheduler.getStatus(id))!.scheduledFor.toISOString()).toBe(at.toISOString());
    });

    it('bulk retry requeues only the failed commands matching the filter', async () => {
      const a = await deadLetter('bulk-a');
      const b = await deadLetter('bulk-b');
      const other = await t.scheduler.schedule(new LabelCommand('not-failed'), { delay: HOUR });
      const response = await admin.post('api/bulk/retry-failed', { commandType: 'label' });
      expect(response.body).toEqual({ requeued: 0 });
      expect([await status(a), await status(b), await status(other)]).toEqual([
        'failed',
        'failed',
        'pending',
      ]);
      const all = await admin.post('api/bulk/retry-failed', { commandType: 'flaky' });
      expect(all.body.requeued).toBeGreaterThanOrEqual(2);
      // Requeued (the worker may already have run them: due now, and woken up).
      expect(await status(a)).not.toBe('failed');
      expect(await status(b)).not.toBe('failed');
    });

    it('purge deletes finished commands finished before the time given, and refuses a bad time', async () => {
      const id = await t.scheduler.schedule(new LabelCommand('purged'));
      await t.runDue();
      expect(await status(id)).toBe('completed');
      expect((await admin.post('api/bulk/purge', { olderThan: 'never' })).status).toBe(400);
      const early = await admin.post('api/bulk/purge', { olderThan: T0.toISOString() });
      expect(early.body).toEqual({ deleted: 0 });
      const late = new Date(T0.getTime() + 1);
      const done = await admin.post('api/bulk/purge', {
        olderThan: late.toISOString(),
        statuses: ['completed'],
      });
      expect(done.body.deleted).toBeGreaterThanOrEqual(1);
      expect(await t.scheduler.getStatus(id)).toBeNull();
    });
  });
});

describe('dashboard overview of the backlog (worker disabled)', () => {
  it('shows counts per status, due now, lateness and the oldest overdue command', async () => {
    const clock = new ManualClock(T0);
    const t = await createDashboardApp({ options: { clock, enabled: false } });
    try {
      const overdue = await t.scheduler.schedule(new LabelCommand('overdue'), {
        scheduledFor: new Date(T0.getTime() + 60_000),
      });
      await t.scheduler.schedule(new LabelCommand('also-due'), {
        scheduledFor: new Date(T0.getTime() + 120_000),
      });
      await t.scheduler.schedule(new LabelCommand('future'), { delay: 2 * HOUR });
      const cancelled = await t.scheduler.schedule(new LabelCommand('cancelled'));
      await t.scheduler.cancel(cancelled);
      const client = new DashboardClient(t.url, { 'x-user': 'viewer' });
      const before = (await client.get('api/overview')).body;
      expect([before.dueNow, before.latenessMs, before.oldestOverdue]).toEqual([0, 0, null]);
      clock.advance(5 * 60_000);
      const { body } = await client.get('api/overview');
      expect(body.counts).toEqual({
        pending: 3,
        processing: 0,
        completed: 0,
        failed: 0,
        cancelled: 1,
        expired: 0,
      });
      expect([body.total, body.dueNow, body.latenessMs]).toEqual([4, 2, 4 * 60_000]);
      // SQLite counts every status exactly: nothing is an estimate.
      expect(body.approximate).toEqual([]);
      expect(body.oldestOverdue).toMatchObject({ id: overdue, commandType: 'label' });
    } finally {
      await t.close();
    }
  });
});

describe('dashboard reads (Express)', () => {
  let t: DashboardApp;
  let clock: ManualClock;
  let client: DashboardClient;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    t = await createDashboardApp({ options: { clock, maxRetries: 0 }, path: 'jobs' });
    client = new DashboardClient(t.url, { 'x-user': 'viewer' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('overview: throughput per minute over the last hour and per hour over the last day', async () => {
    t.journal.failuresLeft.set('o', 1);
    await t.scheduler.schedule(new FlakyCommand('o'));
    await t.scheduler.schedule(new LabelCommand('done'));
    await t.runDue();
    clock.advance(5 * 60_000);
    const { status, body } = await client.get('api/overview');
    expect(status).toBe(200);
    expect(body.counts).toMatchObject({ completed: 1, failed: 1 });
    const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
    const hour = body.throughput.hour;
    expect([hour.completed.length, hour.failed.length, hour.bucketMs]).toEqual([60, 60, 60_000]);
    expect([sum(hour.completed), sum(hour.failed)]).toEqual([1, 1]);
    // Both 5 minutes ago: the sixth bucket from the end.
    expect([hour.completed[54], hour.failed[54]]).toEqual([1, 1]);
    const day = body.throughput.day;
    expect([day.completed.length, day.completed[23], day.failed[23]]).toEqual([24, 1, 1]);
    clock.advance(HOUR);
    const later = (await client.get('api/overview')).body.throughput;
    expect(sum(later.hour.completed)).toBe(0);
    expect(sum(later.day.completed)).toBe(1);
    clock.set(T0);
  });

  it('entries: filters, newest or oldest first, cursor paging, and 400 for a bad filter', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        await t.scheduler.schedule(new LabelCommand(`page-${i}`), {
          delay: HOUR,
          correlationId: 'paging',
        }),
      );
    }
    const first = await client.get('api/entries?correlationId=paging&limit=2');
    expect(first.body.items.map((e: { id: string }) => e.id)).toEqual([ids[4], ids[3]]);
    const second = await client.get(
      `api/entries?correlationId=paging&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
    const asc = await client.get('api/entries?correlationId=paging&order=asc&limit=10');
    expect(asc.body.items.map((e: { id: string }) => e.id)).toEqual(ids);
    expect(asc.body.nextCursor).toBeNull();
    const failed = await client.get('api/entries?status=failed');
    expect(failed.body.items.map((e: { status: string }) => e.status)).toEqual(['failed']);
    const byType = await client.get('api/entries?commandType=flaky');
    expect(byType.body.items).toHaveLength(1);
    expect(byType.body.items[0]).toMatchObject({ commandType: 'flaky', error: 'flaky o failed' });
    const two = await client.get('api/entries?status=failed,completed&order=asc');
    expect(two.body.items.map((e: { status: string }) => e.status)).toEqual([
      'failed',
      'completed',
    ]);
    expect((await client.get('api/entries?status=lost')).status).toBe(400);
    expect((await client.get('api/entries?cursor=nonsense')).status).toBe(400);
    expect((await client.get('api/entries?limit=5000')).status).toBe(400);
  });

  it('entry detail: payload, result, error, attempts, lease and metadata; 404 and 400', async () => {
    const id = await t.scheduler.schedule(new LabelCommand('detail'), {
      metadata: { user: 'u1' },
      idempotencyKey: 'detail-key',
    });
    await t.runDue();
    const { body } = await client.get(`api/entries/${id}`);
    expect(body).toMatchObject({
      id,
      status: 'completed',
      payload: { label: 'detail' },
      result: 'detail',
      attempts: 1,
      metadata: { user: 'u1' },
      idempotencyKey: 'detail-key',
      lockedBy: null,
    });
    expect((await client.get(`api/entries/${UNKNOWN}`)).status).toBe(404);
    expect((await client.get('api/entries/x')).status).toBe(400);
  });
  it('lookup: the live entry holding an idempotency key; 404 once it finished, 400 without a key', async () => {
    const id = await t.scheduler.schedule(new LabelCommand('keyed'), {
      delay: HOUR,
      idempotencyKey: 'order-7',
    });
    const { status, body } = await client.get('api/lookup?idempotencyKey=order-7');
    expect(status).toBe(200);
    expect(body).toMatchObject({ id, status: 'pending', idempotencyKey: 'order-7' });
    expect((await client.get('api/lookup?idempotencyKey=order-8')).status).toBe(404);
    expect((await client.get('api/lookup')).status).toBe(400);
    expect((await client.get('api/lookup?idempotencyKey=')).status).toBe(400);
    expect(await t.scheduler.cancel(id)).toBe(true);
    expect((await client.get('api/lookup?idempotencyKey=order-7')).status).toBe(404);
  });
});

describe('dashboard throughput with a custom EventBus publisher', () => {
  let t: DashboardApp;
  let client: DashboardClient;

  beforeAll(async () => {
    t = await createDashboardApp({ options: { clock: new ManualClock(T0) } });
    client = new DashboardClient(t.url, { 'x-user': 'viewer' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('throughput: counts runs even when the EventBus publisher sends events elsewhere (a broker)', async () => {
    const bus = t.app.get(EventBus);
    const original = bus.publisher;
    const sent: object[] = [];
    // A publisher that forwards to a broker and never back to this process's subscribers.
    bus.publisher = { publish: (event: object) => void sent.push(event) } as IEventPublisher;
    try {
      const completed = async () =>
        (await client.get('api/overview')).body.throughput.hour.completed.reduce(
          (a: number, b: number) => a + b,
          0,
        );
      const before = await completed();
      await t.scheduler.schedule(new LabelCommand('brokered'));
      await t.runDue();
      expect(await completed()).toBe(before + 1);
      expect(sent.filter((e) => e instanceof ScheduledCommandCompletedEvent)).toHaveLength(1);
    } finally {
      bus.publisher = original;
    }
  });
});
