import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import {
  InMemoryScheduledCommandStore,
  InvalidModuleOptionsError,
  ScheduledCommand,
  SystemClock,
  type ScheduledCommandsModuleExtras,
  type ScheduledCommandsModuleOptions,
} from 'nestjs-scheduled-commands';
import {
  ScheduledCommandsHealthIndicator,
  type ScheduledCommandsHealthDetails,
} from 'nestjs-scheduled-commands/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import { startPostgres } from '../scripts/pg.mjs';
import { createTestApp, until, type TestApp } from './support/app.js';
import { pgAvailable } from './support/postgres.js';

@ScheduledCommand('health.wait')
class WaitCommand extends Command<void> {}

/** Holds every run until `release()`. */
let release: () => void = () => undefined;
@CommandHandler(WaitCommand)
class WaitHandler implements ICommandHandler<WaitCommand> {
  execute(): Promise<void> {
    return new Promise((resolve) => (release = resolve));
  }
}

const apps: TestApp[] = [];
afterEach(async () => {
  release();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function healthApp(
  options: ScheduledCommandsModuleOptions & ScheduledCommandsModuleExtras = {},
  typeorm?: Record<string, unknown>,
): Promise<{ app: TestApp; indicator: ScheduledCommandsHealthIndicator }> {
  const app = await createTestApp({
    typeorm,
    options: { listen: false, ...options },
    imports: [TerminusModule],
    providers: [ScheduledCommandsHealthIndicator, WaitHandler],
  });
  apps.push(app);
  return { app, indicator: app.app.get(ScheduledCommandsHealthIndicator) };
}

type Result = { status: string } & ScheduledCommandsHealthDetails;
const check = async (indicator: ScheduledCommandsHealthIndicator, options = {}) =>
  (await indicator.isHealthy('jobs', options)).jobs as Result;

describe('ScheduledCommandsHealthIndicator', () => {
  it('is up with a reachable store, a running worker and no late command, with the figures', async () => {
    const { indicator } = await healthApp();
    const result = await check(indicator);
    expect(result).toMatchObject({
      status: 'up',
      failed: [],
      store: { reachable: true },
      worker: { enabled: true, state: 'running', maxHeartbeatAgeMs: 30_000 },
      backlog: { oldestDueAgeMs: 0, maxDueAgeMs: 60_000 },
    });
    expect(result.worker.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
  });

  it('is down when the oldest due, unclaimed command waited longer than maxDueAge', async () => {
    const { app, indicator } = await healthApp({ enabled: false });
    await app.scheduler.schedule(new WaitCommand(), {
      scheduledFor: new Date(Date.now() - 120_000),
    });
    const result = await check(indicator, { maxDueAge: 60_000 });
    expect(result.status).toBe('down');
    expect(result.failed).toEqual(['backlog']);
    expect(result.backlog.oldestDueAgeMs).toBeGreaterThanOrEqual(120_000);
    // A disabled worker is not required to run.
    expect(result.worker).toMatchObject({ enabled: false, state: 'idle' });
    expect((await check(indicator, { maxDueAge: 600_000 })).status).toBe('up');
  });

  it('is down when the worker is enabled but not running', async () => {
    const { app, indicator } = await healthApp();
    await app.poller.stop();
    const result = await check(indicator);
    expect(result.status).toBe('down');
    expect(result.failed).toEqual(['worker']);
    expect(result.worker).toMatchObject({ enabled: true, state: 'stopped', heartbeatAgeMs: null });
  });

  it('is down when the worker heartbeat stalled (its lease renewals fail)', async () => {
    const store = new InMemoryScheduledCommandStore(new SystemClock());
    store.extendLeases = () => Promise.reject(new Error('renewal refused'));
    const { app, indicator } = await healthApp({ store, leaseDuration: 1_000 });
    await app.scheduler.schedule(new WaitCommand());
    await until(async () => (await store.getProcessingCount()) === 1);
    // Beats every 333 ms; none completes, so the age grows past the threshold.
    // The assertions read the very check that reported down (a second check could see another age).
    let result = await check(indicator, { maxHeartbeatAge: 500 });
    await until(
      async () => (result = await check(indicator, { maxHeartbeatAge: 500 })).status === 'down',
    );
    expect(result.failed).toEqual(['heartbeat']);
    expect(result.worker.heartbeatAgeMs).toBeGreaterThan(500);
    expect(result.store.reachable).toBe(true);
  });

  it('refuses a threshold that is not a positive integer', async () => {
    const { indicator } = await healthApp({ enabled: false });
    await expect(indicator.isHealthy('jobs', { maxDueAge: 0 })).rejects.toThrow(
      InvalidModuleOptionsError,
    );
    await expect(indicator.isHealthy('jobs', { timeout: 1.5 })).rejects.toThrow(/timeout/);
  });

  it.skipIf(!pgAvailable())(
    'is down, saying why, when its PostgreSQL server stops',
    async () => {
      // A server of its own: stopping the shared one would break the other suites.
      const server = await startPostgres();
      try {
        const { indicator } = await healthApp(
          { enabled: false },
          { type: 'postgres', url: server.url, autoLoadEntities: true, synchronize: true },
        );
        expect((await check(indicator)).status).toBe('up');
        await server.stop();
        const result = await check(indicator, { timeout: 5_000 });
        expect(result.status).toBe('down');
        expect(result.failed).toEqual(['store']);
        expect(result.store.reachable).toBe(false);
        expect(result.store.error).toEqual(expect.any(String));
        expect(result.backlog.oldestDueAgeMs).toBeNull();
      } finally {
        await server.stop();
      }
    },
    120_000,
  );
});
