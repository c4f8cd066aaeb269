import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CommandScheduler } from 'nestjs-scheduled-commands';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { AppModule } from '../apps/demo/src/app.module.js';
import { EmailService } from '../apps/demo/src/emails/email.service.js';
import { User } from '../apps/demo/src/users/user.entity.js';
import { CallExternalApiCommand } from '../apps/demo/src/integrations/call-external-api.command.js';
import { ExternalApiService } from '../apps/demo/src/integrations/external-api.service.js';

interface Reply {
  status: number;
  // The tests look into JSON answers field by field.
  body: any;
}

const ADMIN = '/admin/scheduled-commands';

describe('demo application over HTTP (SQLite file, story off)', () => {
  const savedEnv = { DEMO_DATABASE: process.env.DEMO_DATABASE, DEMO_STORY: process.env.DEMO_STORY };
  let dir: string;
  let app: INestApplication | undefined;
  let baseUrl: string;

  async function request(method: string, url: string, body?: unknown): Promise<Reply> {
    const response = await fetch(baseUrl + url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** Polls `GET /admin/scheduled-commands/:id` until the entry has `status`. */
  async function waitForStatus(id: string, status: string, timeoutMs = 15_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await request('GET', `${ADMIN}/${id}`);
      if (reply.body?.status === status) return reply.body;
      if (Date.now() > deadline)
        throw new Error(`${id} is still ${JSON.stringify(reply.body?.status)}, not ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-demo-'));
    process.env.DEMO_DATABASE = path.join(dir, 'demo.sqlite');
    process.env.DEMO_STORY = 'off';
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    // The demo's recurring schedule (every 30 s, created a few seconds ahead) would add occurrences
    // to the exact counts the tests below check: it is paused until the test that covers it.
    expect(await app.get(CommandScheduler).pauseRecurring('refresh-dashboard')).toBe(true);
  });

  afterAll(async () => {
    await app?.close();
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uses the SQLite file named by DEMO_DATABASE and starts with no commands', async () => {
    expect(fs.existsSync(process.env.DEMO_DATABASE as string)).toBe(true);
    const counts = await request('GET', ADMIN);
    expect(counts).toEqual({
      status: 200,
      body: { pending: 0, processing: 0, failed: 0, completed: 0, cancelled: 0, expired: 0 },
    });
  });

  it('POST /emails schedules a welcome email that the worker sends', async () => {
    const scheduled = await request('POST', '/emails', {
      email: 'grace@example.com',
      name: 'Grace Hopper',
    });
    expect(scheduled.status).toBe(202);
    const { id, userId } = scheduled.body;
    expect(typeof id).toBe('string');

    const deadline = Date.now() + 15_000;
    let page: Reply;
    do {
      page = await request(
        'GET',
        `${ADMIN}/entries?status=completed&commandType=send-welcome-email`,
      );
      if (page.body.items.some((e: { id: string }) => e.id === id)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    expect(page.status).toBe(200);
    const entry = page.body.items.find((e: { id: string }) => e.id === id);
    expect(entry).toMatchObject({
      status: 'completed',
      commandType: 'send-welcome-email',
      retryCount: 0,
    });
    expect(JSON.parse(entry.payload)).toEqual({ userId, email: 'grace@example.com' });
    expect(entry.idempotencyKey).toBe(`welcome-email:${userId}`);

    const sent = app!.get(EmailService).sent.filter((e) => e.to === 'grace@example.com');
    expect(sent.map((e) => e.subject)).toEqual(['Welcome, Grace Hopper!']);

    const details = await request('GET', `${ADMIN}/${id}`);
    expect(details.status).toBe(200);
    expect(details.body.description).toMatch(/^Completed at \d{4}-/);
    expect((await request('GET', ADMIN)).body).toMatchObject({ pending: 0, completed: 1 });
  });

  it('scheduling the same pending email twice gives the same id (idempotency key)', async () => {
    const first = await request('POST', '/emails', { email: 'alan@example.com', delay: 60_000 });
    const second = await request('POST', '/emails', { email: 'alan@example.com', delay: 60_000 });
    expect(first.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const entry = await request('GET', `${ADMIN}/${first.body.id}`);
    expect(entry.body).toMatchObject({ status: 'pending', priority: 0, maxRetries: 3 });
    expect(entry.body.description).toMatch(/^Waiting for execution at /);
    await request('POST', `${ADMIN}/${first.body.id}/cancel`);
  });

  it('reschedules, cancels and requeues an entry, refusing what does not apply', async () => {
    const { body } = await request('POST', '/emails', {
      email: 'edsger@example.com',
      delay: 60_000,
      correlationId: 'signup-42',
      metadata: { source: 'e2e' },
    });
    const id: string = body.id;

    const before = Date.now();
    const moved = await request('POST', `${ADMIN}/${id}/reschedule`, { delay: 3_600_000 });
    expect(moved.status).toBe(200);
    const due = Date.parse(moved.body.scheduledFor);
    expect(due).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1_000);
    const at = '2030-01-01T09:00:00.000Z';
    expect(
      (await request('POST', `${ADMIN}/${id}/reschedule`, { scheduledFor: at })).body.scheduledFor,
    ).toBe(at);

    const both = await request('POST', `${ADMIN}/${id}/reschedule`, { delay: 1, scheduledFor: at });
    expect(both.status).toBe(400);
    expect(both.body).toMatchObject({
      error: 'InvalidScheduleOptionsError',
      field: 'scheduledFor',
    });
    expect((await request('POST', `${ADMIN}/${id}/reschedule`, {})).status).toBe(400);
    expect(
      (await request('POST', `${ADMIN}/${id}/reschedule`, { scheduledFor: 'soon' })).status,
    ).toBe(400);
    expect((await request('GET', `${ADMIN}/${id}`)).body.scheduledFor).toBe(at);

    const cancelled = await request('POST', `${ADMIN}/${id}/cancel`);
    expect(cancelled).toMatchObject({
      status: 200,
      body: { status: 'cancelled', description: 'Cancelled' },
    });
    expect((await request('POST', `${ADMIN}/${id}/cancel`)).status).toBe(409);
    expect((await request('POST', `${ADMIN}/${id}/reschedule`, { delay: 0 })).status).toBe(409);
    // retry() requeues dead letters only, unless told which other statuses it may take.
    expect((await request('POST', `${ADMIN}/${id}/retry`)).status).toBe(409);
    const requeued = await request('POST', `${ADMIN}/${id}/retry`, { statuses: ['cancelled'] });
    expect(requeued.status).toBe(200);
    const done = await waitForStatus(id, 'completed');
    expect(done).toMatchObject({ correlationId: 'signup-42', metadata: { source: 'e2e' } });

    const byCorrelation = await request('GET', `${ADMIN}/entries?correlationId=signup-42`);
    expect(byCorrelation.body.items.map((e: { id: string }) => e.id)).toEqual([id]);
  });

  it('dead-letters a failing command and retries it over HTTP once the cause is fixed', async () => {
    const api = app!.get(ExternalApiService);
    api.available = false;
    const id = await app!
      .get(CommandScheduler)
      .schedule(new CallExternalApiCommand('https://partner.test/orders'), {
        maxRetries: 0,
      });
    const failed = await waitForStatus(id, 'failed');
    expect(failed.errorMessage).toContain('503 Service Unavailable');
    expect(failed.description).toMatch(/^Failed after 1 attempt/);
    expect((await request('GET', ADMIN)).body.failed).toBe(1);

    api.available = true;
    const retried = await request('POST', `${ADMIN}/${id}/retry`);
    expect(retried.status).toBe(200);
    const done = await waitForStatus(id, 'completed');
    expect(done.result).toEqual({ status: 200, endpoint: 'https://partner.test/orders' });
    expect((await request('GET', ADMIN)).body.failed).toBe(0);
  });

  it('answers bad input with 400 and unknown ids with 404, storing nothing', async () => {
    const countsBefore = (await request('GET', ADMIN)).body;

    const badId = await request('GET', `${ADMIN}/not-a-uuid`);
    expect(badId.status).toBe(400);
    expect(badId.body.error).toBe('InvalidCommandIdError');
    const unknown = randomUUID();
    expect((await request('GET', `${ADMIN}/${unknown}`)).status).toBe(404);
    expect((await request('POST', `${ADMIN}/${unknown}/cancel`)).status).toBe(404);
    expect((await request('POST', `${ADMIN}/${unknown}/retry`)).status).toBe(404);
    expect((await request('POST', `${ADMIN}/${unknown}/reschedule`, { delay: 5 })).status).toBe(
      404,
    );

    const negative = await request('POST', '/emails', { email: 'x@example.com', delay: -5 });
    expect(negative.status).toBe(400);
    expect(negative.body).toMatchObject({ error: 'InvalidScheduleOptionsError', field: 'delay' });
    const badDate = await request('POST', '/emails', {
      email: 'x@example.com',
      scheduledFor: 'tomorrow',
    });
    expect(badDate.body).toMatchObject({ statusCode: 400, field: 'scheduledFor' });
    const badPriority = await request('POST', '/emails', { email: 'x@example.com', priority: 1.5 });
    expect(badPriority.body).toMatchObject({ statusCode: 400, field: 'priority' });
    // The user and the welcome email are stored in one transaction: a rejected email leaves no user.
    const users = app!.get(DataSource).getRepository(User);
    expect(await users.findOneBy({ email: 'x@example.com' })).toBeNull();
    expect((await request('POST', '/emails', { email: 'not-an-email' })).status).toBe(400);

    expect((await request('GET', `${ADMIN}/entries?status=bogus`)).status).toBe(400);
    expect((await request('GET', `${ADMIN}/entries?limit=0`)).status).toBe(400);
    expect((await request('GET', `${ADMIN}/entries?order=sideways`)).status).toBe(400);
    const badCursor = await request('GET', `${ADMIN}/entries?cursor=not-a-cursor`);
    expect(badCursor.body).toMatchObject({
      statusCode: 400,
      error: 'InvalidScheduleOptionsError',
      field: 'cursor',
    });

    expect((await request('GET', ADMIN)).body).toEqual(countsBefore);
  });

  it('pages entries with a cursor', async () => {
    const first = await request('GET', `${ADMIN}/entries?limit=1`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(typeof first.body.nextCursor).toBe('string');
    const second = await request(
      'GET',
      `${ADMIN}/entries?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    // Newest first by default: the second page holds an older entry.
    expect(second.body.items[0].id < first.body.items[0].id).toBe(true);

    const all = await request('GET', `${ADMIN}/entries?order=asc&limit=1000`);
    expect(all.body.nextCursor).toBeNull();
    const ids = all.body.items.map((e: { id: string }) => e.id);
    expect(ids).toEqual([...ids].sort());
  });

  it('GET /statistics agrees with the counts', async () => {
    const counts = (await request('GET', ADMIN)).body;
    const stats = await request('GET', `${ADMIN}/statistics`);
    expect(stats.status).toBe(200);
    expect(stats.body.counts).toEqual(counts);
    expect(stats.body.total).toBe(
      Object.values(counts as Record<string, number>).reduce((a, b) => a + b, 0),
    );
    // grace (completed), alan (cancelled), edsger (requeued, completed), the partner call (completed).
    expect(counts).toEqual({
      pending: 0,
      processing: 0,
      failed: 0,
      completed: 3,
      cancelled: 1,
      expired: 0,
    });
    expect(stats.body).toMatchObject({
      total: 4,
      waitingForRetry: 0,
      dueNow: 0,
      oldestPendingScheduledFor: null,
    });
  });
  it('mounts the dashboard at /dashboard behind HTTP Basic auth: admin acts, viewer only reads', async () => {
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    const anonymous = await fetch(`${baseUrl}/dashboard`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(
      (await fetch(`${baseUrl}/dashboard/api/overview`, { headers: basic('admin', 'x') })).status,
    ).toBe(401);
    const page = await fetch(`${baseUrl}/dashboard`, { headers: basic('admin', 'admin') });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('assets/app.js');
    for (const [user, access] of [
      ['admin', 'all'],
      ['viewer', 'read-only'],
    ]) {
      const session = await fetch(`${baseUrl}/dashboard/api/session`, {
        headers: basic(user, user),
      });
      expect(((await session.json()) as { access: string }).access).toBe(access);
    }
  });

  it('lists the recurring schedule the demo declares, and runs an occurrence triggered by hand', async () => {
    expect((await request('POST', '/admin/recurring/refresh-dashboard/resume')).status).toBe(201);
    const list = await request('GET', '/admin/recurring');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      expect.objectContaining({
        name: 'refresh-dashboard',
        commandType: 'refresh-dashboard',
        cron: '*/30 * * * * *',
        declared: true,
        paused: false,
      }),
    ]);
    expect(new Date(list.body[0].nextRunAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const triggered = await request('POST', '/admin/recurring/refresh-dashboard/trigger');
    expect(triggered.status).toBe(201);
    const entry = await waitForStatus(triggered.body.id, 'completed');
    expect(entry.recurringName).toBe('refresh-dashboard');
    const one = await request('GET', '/admin/recurring/refresh-dashboard');
    expect(one.body.occurrences.map((e: { id: string }) => e.id)).toContain(triggered.body.id);
    expect((await request('GET', '/admin/recurring/unknown')).status).toBe(404);
    expect((await request('POST', '/admin/recurring/unknown/pause')).status).toBe(404);
  });

  it('GET /metrics serves our metrics in the Prometheus text format once commands have run', async () => {
    // The earlier tests scheduled and ran commands (the welcome email among them).
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const line = (metric: string) =>
      text.split('\n').find((l) => l.startsWith(metric) && l.includes('send-welcome-email'));
    expect(line('messaging_client_sent_messages')).toMatch(/ \d+$/);
    expect(line('messaging_client_consumed_messages')).toMatch(/ \d+$/);
    expect(line('messaging_process_duration_count')).toContain(
      'scheduled_commands_outcome="completed"',
    );
    expect(line('scheduled_commands_lateness_count')).toMatch(/ \d+$/);
    expect(text).toContain('# TYPE messaging_process_duration histogram');
    expect(text).not.toMatch(/messaging_message_id/);
  });

  it('GET /health answers 200 with the scheduled-commands figures', async () => {
    const reply = await request('GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('ok');
    expect(reply.body.info['scheduled-commands']).toMatchObject({
      status: 'up',
      failed: [],
      store: { reachable: true },
      worker: { enabled: true, state: 'running' },
    });
  });
});
