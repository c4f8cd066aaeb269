import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { until } from './support/app.js';
import { FlakyCommand, LabelCommand } from './support/commands.js';
import { createDashboardApp, type DashboardApp } from './support/dashboard.js';

/** Screenshots of each page, for people to look at (not committed). */
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

describe('dashboard in a real Chromium', () => {
  let t: DashboardApp;
  let browser: Browser;
  let deadId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const executablePath = await findChromium();
    [t, browser] = await Promise.all([
      createDashboardApp({
        options: { pollingInterval: 200, maxRetries: 0 },
        refreshInterval: 500,
      }),
      chromium.launch({ executablePath, args: CHROMIUM_ARGS }),
    ]);
    // A story to look at: a dead letter that succeeds when retried, finished and waiting work.
    t.journal.failuresLeft.set('browser', 1);
    deadId = await t.scheduler.schedule(new FlakyCommand('browser'), {
      correlationId: 'order-42',
      metadata: { user: 'u-7' },
    });
    for (let i = 0; i < 3; i++) await t.scheduler.schedule(new LabelCommand(`done-${i}`));
    for (let i = 0; i < 2; i++) {
      await t.scheduler.schedule(new LabelCommand(`later-${i}`), {
        delay: 3_600_000,
        idempotencyKey: `later-key-${i}`,
      });
    }
    await until(async () => (await t.scheduler.getStatus(deadId))?.status === 'failed');
    await until(async () => (await t.scheduler.getStatistics()).counts.completed === 3);
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  /** A page as `user` (admin: all, viewer: read-only, none), failing the test on any console error. */
  async function open(
    user: string | null,
    hash = '',
    colorScheme: 'light' | 'dark' = 'light',
  ): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({
      extraHTTPHeaders: user ? { 'x-user': user } : {},
      colorScheme,
      viewport: { width: 1280, height: 900 },
    });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${t.url}${hash}`);
    return { page, errors };
  }

  it('shows the overview in light and dark mode, with no console error (strict CSP)', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const { page, errors } = await open('admin', '', scheme);
      await page.locator('.card[data-status="failed"] .n').filter({ hasText: '1' }).waitFor();
      await expect
        .poll(() => page.locator('.card[data-status="completed"] .n').textContent())
        .toBe('3');
      expect(await page.locator('svg.chart').count()).toBe(2);
      expect(await page.locator('#access').textContent()).toBe('full access');
      // A string: this file is compiled without the DOM types.
      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).toBe(scheme === 'dark' ? 'rgb(15, 18, 22)' : 'rgb(247, 248, 250)');
      await page.screenshot({ path: `${SHOTS}overview-${scheme}.png`, fullPage: true });
      expect(errors).toEqual([]);
    }
  });

  it('filters the entries list, by keyboard too', async () => {
    const { page, errors } = await open('admin', '#/entries');
    await page.locator('tbody tr').first().waitFor();
    expect(await page.locator('tbody tr').count()).toBe(6);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('Command type').focus();
    await page.keyboard.type('flaky');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect(page.url()).toContain('status=failed');
    expect(await page.locator('tbody tr .badge').textContent()).toBe('failed');
    await page.getByLabel('Status').selectOption('pending');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('tbody tr .badge').allTextContents()).toEqual([]);
    await page.getByLabel('Command type').fill('label');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(() => page.locator('tbody tr .badge').allTextContents())
      .toEqual(['pending', 'pending']);
    await page.screenshot({ path: `${SHOTS}entries.png`, fullPage: true });
    await page.getByLabel('Look up by idempotency key').fill('nobody-holds-this');
    await page.getByLabel('Look up by idempotency key').press('Enter');
    await expect.poll(() => page.locator('#flash').textContent()).toContain('no pending');
    const keyed = (await t.scheduler.find({ idempotencyKey: 'later-key-1' })).items[0];
    await page.getByLabel('Look up by idempotency key').fill('later-key-1');
    await page.getByLabel('Look up by idempotency key').press('Enter');
    await expect.poll(() => page.url()).toContain(`#/entry/${keyed.id}`);
    await page.locator('.facts').getByText('later-key-1').waitFor();
    // The one error: Chromium's own line for the lookup's 404.
    expect(errors).toEqual([expect.stringMatching(/status of 404/)]);
  });

  it('retries a dead-lettered command from its page: it runs, and the page shows it completed', async () => {
    const { page, errors } = await open('admin', `#/entry/${deadId}`);
    await page.locator('.facts .badge').filter({ hasText: 'failed' }).waitFor();
    expect(await page.locator('pre.err').textContent()).toContain('flaky browser failed');
    await page.screenshot({ path: `${SHOTS}entry-failed.png`, fullPage: true });
    const retry = page.getByRole('button', { name: 'Retry', exact: true });
    await retry.focus();
    await page.keyboard.press('Enter');
    await page
      .locator('.facts .badge')
      .filter({ hasText: 'completed' })
      .waitFor({ timeout: 15_000 });
    expect(await page.locator('#flash').textContent()).toContain('Requeued');
    expect((await t.scheduler.getStatus(deadId))!.status).toBe('completed');
    await page.screenshot({ path: `${SHOTS}entry-completed.png`, fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows a read-only user no action, and the API refuses theirs with 403', async () => {
    const pending = (await t.scheduler.find({ status: 'pending' })).items[0];
    const { page, errors } = await open('viewer', `#/entry/${pending.id}`);
    await page.locator('.facts .badge').filter({ hasText: 'pending' }).waitFor();
    expect(await page.locator('#access').textContent()).toBe('read-only');
    expect(await page.getByRole('button', { name: /cancel|run now|retry/i }).count()).toBe(0);
    await page.goto(`${t.url}#/entries`);
    await page.locator('tbody tr').first().waitFor();
    expect(await page.locator('#retry-failed, #purge').count()).toBe(0);
    expect(errors).toEqual([]);
    const status = await page.evaluate(async (id) => {
      const session = (await (await fetch('api/session')).json()) as { csrfToken: string };
      const response = await fetch(`api/entries/${id}/cancel`, {
        method: 'POST',
        headers: { 'x-csrf-token': session.csrfToken },
      });
      return response.status;
    }, pending.id);
    expect(status).toBe(403);
    expect((await t.scheduler.getStatus(pending.id))!.status).toBe('pending');
  });

  it('refuses a POST without its CSRF token with 403, even from the dashboard page', async () => {
    const pending = (await t.scheduler.find({ status: 'pending' })).items[0];
    const { page } = await open('admin', '#/entries');
    await page.locator('tbody tr').first().waitFor();
    const status = await page.evaluate(
      async (id) => (await fetch(`api/entries/${id}/cancel`, { method: 'POST' })).status,
      pending.id,
    );
    expect(status).toBe(403);
    expect((await t.scheduler.getStatus(pending.id))!.status).toBe('pending');
  });

  it('pauses, resumes and triggers a recurring schedule on its page, and links an occurrence to its schedule', async () => {
    await t.scheduler.scheduleRecurring('hourly-report', new LabelCommand('report'), {
      every: 3_600_000,
    });
    const { page, errors } = await open('admin', '#/recurring');
    const row = page.locator('tr[data-name="hourly-report"]');
    await row.locator('.badge').filter({ hasText: 'active' }).waitFor();
    expect(await row.locator('td.next div').count()).toBe(3);
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.locator('.badge').filter({ hasText: 'paused' }).waitFor();
    expect(await page.locator('#flash').textContent()).toBe('hourly-report paused');
    expect((await t.scheduler.getRecurring('hourly-report'))!.paused).toBe(true);
    expect(await row.locator('td.next').textContent()).toBe('—');
    await page.screenshot({ path: `${SHOTS}recurring-paused.png`, fullPage: true });
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.locator('.badge').filter({ hasText: 'active' }).waitFor();
    expect((await t.scheduler.getRecurring('hourly-report'))!.paused).toBe(false);
    await row.getByRole('button', { name: 'Trigger now' }).click();
    await expect.poll(() => page.locator('#flash').textContent()).toContain('triggered');
    // The worker runs the occurrence; the row shows it completed.
    await row.locator('.badge').filter({ hasText: 'completed' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${SHOTS}recurring.png`, fullPage: true });
    await row.locator('a.mono').click();
    await page.locator('#recurring-link').click();
    await expect.poll(() => page.url()).toContain('recurringName=hourly-report');
    await expect.poll(() => page.locator('tbody tr[data-id]').count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('shows a read-only user the recurring schedules without their actions', async () => {
    const { page, errors } = await open('viewer', '#/recurring');
    await page.locator('tr[data-name="hourly-report"]').waitFor();
    expect(await page.getByRole('button', { name: /pause|resume|trigger/i }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("gives access 'none' 403 everywhere", async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const response = await page.goto(t.url);
    expect(response!.status()).toBe(403);
    const api = await page.evaluate(async () => (await fetch('api/overview')).status);
    expect(api).toBe(403);
  });
});
