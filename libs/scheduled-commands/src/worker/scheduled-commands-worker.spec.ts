import { Logger } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ScheduledCommandsModule } from '../scheduled-commands.module.js';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { CommandPoller, ScheduledCommandsWorker } from './scheduled-commands-worker.js';

Logger.overrideLogger(['error']);

async function boot(enabled: boolean) {
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const moduleRef = await Test.createTestingModule({
    imports: [
      CqrsModule.forRoot(),
      ScheduledCommandsModule.forRoot({
        store: new InMemoryScheduledCommandStore(clock),
        clock,
        enabled,
        pollingInterval: 600_000,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication();
  return { app, worker: app.get(ScheduledCommandsWorker) };
}

describe('ScheduledCommandsWorker', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('goes idle → running → stopping → stopped, and nowhere else', async () => {
    const { app, worker } = await boot(true);
    apps.push(app);
    expect(worker.state).toBe('idle');
    await app.init();
    expect(worker.state).toBe('running');
    expect(worker.isRunning).toBe(true);
    const stopping = worker.stop();
    expect(worker.state).toBe('stopping');
    expect(worker.isRunning).toBe(false);
    await worker.stop(); // a second stop does nothing
    await stopping;
    expect(worker.state).toBe('stopped');
    await worker.tick(); // nothing to do once stopped
    await expect(worker.onApplicationBootstrap()).rejects.toThrow(
      /cannot go from "stopped" to "running"/,
    );
  });

  it('stays idle when disabled, then stops without having run', async () => {
    const { app, worker } = await boot(false);
    await app.init();
    expect(worker.state).toBe('idle');
    await app.close();
    expect(worker.state).toBe('stopped');
  });

  it('is still reachable under its former name CommandPoller (deprecated alias)', async () => {
    const { app, worker } = await boot(true);
    apps.push(app);
    await app.init();
    expect(app.get(CommandPoller)).toBe(worker);
  });
});
