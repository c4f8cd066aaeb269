import { Logger } from '@nestjs/common';
import type { CommandBus } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import { CommandRegistry } from '../registry/command-registry.js';
import { ScheduledCommand } from '../registry/scheduled-command.decorator.js';
import { resolveScheduledCommandsOptions } from '../scheduled-commands.options.js';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { newCommand } from '../testing/new-command.js';
import { CommandRunner } from './command-runner.js';
import { LazyAbort } from './lazy-abort.js';

Logger.overrideLogger(['error']);

@ScheduledCommand('runner-spec')
class RunnerSpecCommand {}

async function setUp(execute: () => Promise<unknown>, commandTimeout: number) {
  const store = new InMemoryScheduledCommandStore(new ManualClock());
  await store.schedule(newCommand({ commandType: 'runner-spec' }));
  const [entry] = await store.claim({ workerId: 'w1', limit: 1, leaseMs: 30_000 });
  const registry = new CommandRegistry();
  registry.register(RunnerSpecCommand);
  const bus = { execute } as unknown as CommandBus;
  const runner = new CommandRunner(
    bus,
    registry,
    resolveScheduledCommandsOptions({ commandTimeout }),
    store,
  );
  return { entry, runner };
}

describe('CommandRunner', () => {
  it('turns a handler that returned into a completed outcome', async () => {
    const { entry, runner } = await setUp(async () => ({ ok: true }), 1_000);
    await expect(runner.run(entry, new LazyAbort())).resolves.toEqual({
      kind: 'completed',
      result: { ok: true },
      resultPayload: '{"ok":true}',
    });
  });

  it('times a run out: fires the signal, fails the attempt, and says when the handler has really ended', async () => {
    let finish!: () => void;
    const { entry, runner } = await setUp(
      () => new Promise<void>((resolve) => (finish = resolve)),
      20,
    );
    const abort = new LazyAbort();
    const outcome = await runner.run(entry, abort);
    expect(outcome).toMatchObject({ kind: 'failed', permanent: false });
    expect(abort.signal.aborted).toBe(true);
    const settled = outcome.kind === 'failed' ? outcome.settled : undefined;
    expect(settled).toBeInstanceOf(Promise);
    let ended = false;
    void settled!.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false); // the handler still runs
    finish();
    await settled;
    expect(ended).toBe(true);
  });

  it('gives no `settled` to a failure that is not a timeout', async () => {
    const thrown = new Error('nope');
    const { entry, runner } = await setUp(async () => {
      throw thrown;
    }, 1_000);
    const outcome = await runner.run(entry, new LazyAbort());
    expect(outcome).toEqual({ kind: 'failed', error: 'nope', permanent: false, exception: thrown });
  });
});
