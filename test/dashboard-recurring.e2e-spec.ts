import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from 'nestjs-scheduled-commands/testing';
import { LabelCommand } from './support/commands.js';
import { createDashboardApp, DashboardClient, type DashboardApp } from './support/dashboard.js';

const T0 = new Date('2026-11-27T09:00:00.000Z');
const HOUR = 3_600_000;

describe('dashboard API: recurring schedules', () => {
  let t: DashboardApp;
  let admin: DashboardClient;
  let viewer: DashboardClient;

  beforeAll(async () => {
    const clock = new ManualClock(T0);
    t = await createDashboardApp({ options: { clock, enabled: false } });
    admin = new DashboardClient(t.url, { 'x-user': 'admin' });
    viewer = new DashboardClient(t.url, { 'x-user': 'viewer' });
    await admin.session();
    await viewer.session();
    await t.scheduler.scheduleRecurring('hourly', new LabelCommand('hourly'), { every: HOUR });
    await t.scheduler.scheduleRecurring('nightly', new LabelCommand('nightly'), {
      cron: '0 2 * * *',
      timezone: 'Europe/Paris',
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  const schedule = async (name: string) =>
    ((await viewer.get('api/recurring')).body.schedules as { name: string }[]).find(
      (s) => s.name === name,
    ) as Record<string, any>;

  it('lists the schedules with their timing, next runs, state and newest occurrence', async () => {
    const { status, body } = await viewer.get('api/recurring');
    expect(status).toBe(200);
    expect(body.supported).toBe(true);
    expect(body.schedules.map((s: { name: string }) => s.name)).toEqual(['hourly', 'nightly']);
    const nightly = await schedule('nightly');
    expect(nightly).toMatchObject({
      commandType: 'label',
      cron: '0 2 * * *',
      every: null,
      timezone: 'Europe/Paris',
      paused: false,
      declared: false,
      lastRunAt: null,
      lastOccurrence: null,
    });
    // 02:00 in Paris (UTC+1 in November) on the next three days.
    expect(nightly.nextRuns).toEqual([
      '2026-11-28T01:00:00.000Z',
      '2026-11-29T01:00:00.000Z',
      '2026-11-30T01:00:00.000Z',
    ]);
    const hourly = await schedule('hourly');
    expect(hourly.every).toBe(HOUR);
    expect(hourly.nextRuns).toHaveLength(3);
    expect(Date.parse(hourly.nextRuns[1]) - Date.parse(hourly.nextRuns[0])).toBe(HOUR);
  });

  it('pauses, resumes and triggers through the recurring scheduler', async () => {
    expect((await admin.post('api/recurring/hourly/pause')).status).toBe(200);
    expect((await t.scheduler.getRecurring('hourly'))!.paused).toBe(true);
    expect(await schedule('hourly')).toMatchObject({ paused: true, nextRuns: [] });
    expect((await admin.post('api/recurring/hourly/resume')).status).toBe(200);
    expect((await t.scheduler.getRecurring('hourly'))!.paused).toBe(false);

    const { status, body } = await admin.post('api/recurring/nightly/trigger');
    expect(status).toBe(200);
    const occurrence = await t.scheduler.getStatus(body.id);
    expect(occurrence).toMatchObject({ recurringName: 'nightly', status: 'pending' });
    expect((await schedule('nightly')).lastOccurrence).toMatchObject({
      id: body.id,
      recurringName: 'nightly',
    });
    // The occurrence's schedule is a filter of the entries list.
    const entries = await viewer.get('api/entries?recurringName=nightly');
    expect(entries.body.items.map((e: { id: string }) => e.id)).toEqual([body.id]);
  });

  it('answers 404 for an unknown schedule and 400 for an invalid name', async () => {
    for (const action of ['pause', 'resume', 'trigger']) {
      expect((await admin.post(`api/recurring/nope/${action}`)).status).toBe(404);
    }
    expect((await admin.post(`api/recurring/${'x'.repeat(201)}/pause`)).status).toBe(400);
  });

  it("refuses a read-only user's actions and a POST without its CSRF token with 403", async () => {
    expect((await viewer.post('api/recurring/hourly/pause')).status).toBe(403);
    expect((await admin.post('api/recurring/hourly/pause', {}, { csrf: false })).status).toBe(403);
    expect((await t.scheduler.getRecurring('hourly'))!.paused).toBe(false);
    const before = (await t.scheduler.find({ recurringName: 'hourly' })).items.length;
    expect((await viewer.post('api/recurring/hourly/trigger')).status).toBe(403);
    expect((await t.scheduler.find({ recurringName: 'hourly' })).items).toHaveLength(before);
  });
});
