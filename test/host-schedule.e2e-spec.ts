import { Injectable, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Cron, Interval, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  CommandPoller,
  SCHEDULED_COMMANDS_POLLER_INTERVAL,
  ScheduledCommandsModule,
} from 'nestjs-scheduled-commands';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from './support/app.js';

/** The host application's own jobs: a 100 ms interval and an every-second cron job. */
@Injectable()
class HostJobs {
  intervalTicks = 0;
  cronTicks = 0;

  @Interval('host-interval', 100)
  everyTenthOfASecond(): void {
    this.intervalTicks++;
  }

  @Cron('* * * * * *', { name: 'host-cron' })
  everySecond(): void {
    this.cronTicks++;
  }
}

/** A host app with its own jobs, the given ScheduleModule set-up, and (optionally) the library. */
async function hostApp(
  schedule: DynamicModule | undefined,
  withLibrary: boolean,
  pollingInterval = 60_000,
): Promise<INestApplication> {
  @Module({
    imports: [
      CqrsModule.forRoot(),
      ...(schedule ? [schedule] : []),
      ...(withLibrary
        ? [
            TypeOrmModule.forRoot({
              type: 'better-sqlite3',
              database: ':memory:',
              autoLoadEntities: true,
              synchronize: true,
            }),
            ScheduledCommandsModule.forRoot({ pollingInterval }),
          ]
        : []),
    ],
    providers: [HostJobs],
  })
  class HostModule {}

  const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).compile();
  moduleRef.useLogger(['error']);
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
}

const WINDOW = 3_100;

/**
 * Runs the host app with and without the library side by side over one window and returns each one's
 * tick counts, plus the window's real length.
 */
async function countTicks(schedule: DynamicModule | undefined, apps: INestApplication[]) {
  const without = await hostApp(schedule, false);
  apps.push(without);
  const withLib = await hostApp(schedule, true);
  apps.push(withLib);
  const jobs = [without.get(HostJobs), withLib.get(HostJobs)];
  for (const j of jobs) j.intervalTicks = j.cronTicks = 0;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW));
  const counts = jobs.map((j) => ({ interval: j.intervalTicks, cron: j.cronTicks }));
  const elapsed = performance.now() - start;
  return { without: counts[0], withLib: counts[1], elapsed, withLibApp: withLib };
}

describe("the host application's own @nestjs/schedule jobs", () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  const setups: [string, () => DynamicModule][] = [
    ['ScheduleModule.forRoot()', () => ScheduleModule.forRoot()],
    [
      'ScheduleModule.forRoot({ cronJobs: true, intervals: true })',
      () => ScheduleModule.forRoot({ cronJobs: true, intervals: true }),
    ],
    [
      'ScheduleModule.forRootAsync({ useFactory })',
      () =>
        ScheduleModule.forRootAsync({
          useFactory: async () => ({ cronJobs: true, intervals: true }),
        }),
    ],
  ];

  for (const [name, schedule] of setups) {
    it(`run once, not twice, with the library imported (host uses ${name})`, async () => {
      const { without, withLib, elapsed, withLibApp } = await countTicks(schedule(), apps);
      // One 100 ms interval fires at most once per 100 ms, one every-second cron job once per second
      // boundary; a second ScheduleModule exploring the app would double both.
      const maxInterval = Math.floor(elapsed / 100) + 2;
      const maxCron = Math.floor(elapsed / 1000) + 1;
      for (const counts of [without, withLib]) {
        expect(counts.interval).toBeGreaterThanOrEqual(5);
        expect(counts.interval).toBeLessThanOrEqual(maxInterval);
        expect(counts.cron).toBeGreaterThanOrEqual(1);
        expect(counts.cron).toBeLessThanOrEqual(maxCron);
      }
      expect(withLib.interval).toBeLessThanOrEqual(without.interval + 2);
      expect(withLib.cron).toBeLessThanOrEqual(without.cron + 1);
      // The library's polling interval is the host's to see.
      const registry = withLibApp.get(SchedulerRegistry);
      expect(registry.getIntervals()).toContain(SCHEDULED_COMMANDS_POLLER_INTERVAL);
      expect(registry.getIntervals()).toContain('host-interval');
      expect([...registry.getCronJobs().keys()]).toEqual(['host-cron']);
      await withLibApp.close();
      expect(registry.getIntervals()).not.toContain(SCHEDULED_COMMANDS_POLLER_INTERVAL);
    });
  }

  it('stay off when the host imports no ScheduleModule, and the library still polls', async () => {
    const { without, withLib } = await countTicks(undefined, apps);
    expect(without).toEqual({ interval: 0, cron: 0 });
    expect(withLib).toEqual({ interval: 0, cron: 0 });

    const app = await hostApp(undefined, true, 50);
    apps.push(app);
    const poller = app.get(CommandPoller);
    const tick = vi.spyOn(poller, 'tick');
    await until(() => tick.mock.calls.length >= 3, 10_000);
    await app.close();
    const after = tick.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tick.mock.calls.length).toBe(after);
  });
});
