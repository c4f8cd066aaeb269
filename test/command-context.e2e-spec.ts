import { afterEach, describe, expect, it } from 'vitest';
import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import {
  AsyncContextDisabledError,
  CommandTimeoutError,
  getScheduledCommandContext,
  InMemoryScheduledCommandStore,
  InvalidModuleOptionsError,
  ScheduledCommand,
  ScheduledCommandsModule,
  type ScheduledCommandContext,
  type ScheduledCommandsModuleOptions,
} from 'nestjs-scheduled-commands';
import { ManualClock } from 'nestjs-scheduled-commands/testing';
import { createTestApp, type TestApp } from './support/app.js';

const T0 = new Date('2026-11-27T09:00:00.000Z');

/** Calls the no-argument form, turning a throw into a value the test can look at. */
function ambient(): { context?: ScheduledCommandContext; error?: unknown } {
  try {
    return { context: getScheduledCommandContext() };
  } catch (error) {
    return { error };
  }
}

/** What one run of {@link ProbeHandler} saw. */
interface ProbeRun {
  label: string;
  byCommand: ScheduledCommandContext | undefined;
  signal: AbortSignal | undefined;
  json: string;
  keys: string[];
  spreadSymbols: number;
  ambientBefore: ReturnType<typeof ambient>;
  ambientAfterAwait: ReturnType<typeof ambient>;
  ambientDeep: ReturnType<typeof ambient>;
}

@Injectable()
class Probes {
  readonly runs: ProbeRun[] = [];
  readonly timeoutReasons: unknown[] = [];
}

/** A helper further down the handler's call chain that is not given the command. */
@Injectable()
class DeepService {
  async lookUp(): Promise<ReturnType<typeof ambient>> {
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.resolve();
    return ambient();
  }
}

@ScheduledCommand('context-probe')
class ProbeCommand extends Command<object> {
  constructor(
    readonly label: string,
    readonly failFirstAttempt = false,
  ) {
    super();
  }
}

@CommandHandler(ProbeCommand)
class ProbeHandler implements ICommandHandler<ProbeCommand, object> {
  constructor(
    private readonly probes: Probes,
    private readonly deep: DeepService,
  ) {}

  async execute(command: ProbeCommand): Promise<object> {
    const byCommand = getScheduledCommandContext(command);
    const ambientBefore = ambient();
    await new Promise((resolve) => setTimeout(resolve, 1));
    const ambientAfterAwait = ambient();
    const ambientDeep = await this.deep.lookUp();
    this.probes.runs.push({
      label: command.label,
      byCommand,
      signal: byCommand?.signal,
      json: JSON.stringify(command),
      keys: Object.keys(command),
      spreadSymbols: Object.getOwnPropertySymbols({ ...command }).length,
      ambientBefore,
      ambientAfterAwait,
      ambientDeep,
    });
    if (command.failFirstAttempt && byCommand?.attempt === 1)
      throw new Error('first attempt fails');
    // Returned as is: its stored result shows what serialising the received instance gives.
    return command;
  }
}

/** Waits for its signal to fire (never returns on its own). */
@ScheduledCommand('context-wait')
class WaitForAbortCommand extends Command<void> {}

@CommandHandler(WaitForAbortCommand)
class WaitForAbortHandler implements ICommandHandler<WaitForAbortCommand> {
  constructor(private readonly probes: Probes) {}

  async execute(command: WaitForAbortCommand): Promise<void> {
    const signal = getScheduledCommandContext(command)!.signal;
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    this.probes.timeoutReasons.push(signal.reason);
    throw signal.reason;
  }
}

/** A handler that is not `async`: it returns its result as a plain value, not a promise. */
@ScheduledCommand('context-sync')
class SyncCommand extends Command<string> {
  constructor(readonly label: string) {
    super();
  }
}

@CommandHandler(SyncCommand)
class SyncHandler implements ICommandHandler<SyncCommand, string> {
  execute(command: SyncCommand): Promise<string> {
    // Typed as a promise, as ICommandHandler wants; plain JavaScript handlers often return a value.
    return `${command.label}:${getScheduledCommandContext(command)?.attempt}` as unknown as Promise<string>;
  }
}

const providers = [Probes, DeepService, ProbeHandler, WaitForAbortHandler, SyncHandler];

describe('getScheduledCommandContext', () => {
  let t: TestApp | undefined;
  let clock: ManualClock;

  const start = async (options: ScheduledCommandsModuleOptions = {}): Promise<TestApp> => {
    clock = new ManualClock(T0);
    t = await createTestApp({ options: { clock, workerId: 'ctx', ...options }, providers });
    return t;
  };

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  describe('with the command argument (default options)', () => {
    it('gives the handler the context of the run it received, attempt after attempt', async () => {
      const app = await start({ retryDelayBase: 1000, exponentialBackoff: false });
      const id = await app.scheduler.schedule(new ProbeCommand('retried', true), {
        correlationId: 'corr-9',
        metadata: { tenant: 't1' },
        maxRetries: 2,
      });
      await app.runDue();
      clock.advance(1000);
      await app.runDue();

      const runs = app.app.get(Probes).runs;
      expect(runs.map((r) => r.byCommand?.attempt)).toEqual([1, 2]);
      expect(runs[0].byCommand).toMatchObject({
        commandId: id,
        commandType: 'context-probe',
        attempt: 1,
        retryCount: 0,
        maxRetries: 2,
        correlationId: 'corr-9',
        metadata: { tenant: 't1' },
      });
      expect(runs[1].byCommand).toMatchObject({ commandId: id, attempt: 2, retryCount: 1 });
      // Each run has its own context and its own signal.
      expect(runs[0].byCommand).not.toBe(runs[1].byCommand);
      for (const run of runs) {
        expect(run.signal).toBeInstanceOf(AbortSignal);
        expect(run.signal?.aborted).toBe(false);
      }
      expect((await app.entry(id)).status).toBe('completed');
    });

    it('gives undefined for a command sent through CommandBus directly', async () => {
      const app = await start();
      const result = await app.commandBus.execute(new ProbeCommand('direct'));
      expect(result).toBeInstanceOf(ProbeCommand);
      const [run] = app.app.get(Probes).runs;
      expect(run.label).toBe('direct');
      expect(run.byCommand).toBeUndefined();
      expect(run.signal).toBeUndefined();
    });

    it('leaves no trace of the context in the command: keys, JSON, spreads, stored result', async () => {
      const app = await start();
      const id = await app.scheduler.schedule(new ProbeCommand('plain'));
      await app.runDue();
      const [run] = app.app.get(Probes).runs;
      expect(run.byCommand?.commandId).toBe(id);
      expect(run.keys).toEqual(['label', 'failFirstAttempt']);
      expect(JSON.parse(run.json)).toEqual({ label: 'plain', failFirstAttempt: false });
      expect(run.json).not.toContain(id);
      expect(run.spreadSymbols).toBe(0);
      const entry = await app.entry(id);
      expect(entry.status).toBe('completed');
      expect(JSON.parse(entry.resultPayload!)).toEqual({ label: 'plain', failFirstAttempt: false });
      expect(await app.scheduler.getResult(id)).toEqual({
        label: 'plain',
        failFirstAttempt: false,
      });
    });

    it('fires the signal of the context when commandTimeout passes', async () => {
      const app = await start({ commandTimeout: 100, maxRetries: 0 });
      const id = await app.scheduler.schedule(new WaitForAbortCommand());
      await app.runDue();
      const [reason] = app.app.get(Probes).timeoutReasons;
      expect(reason).toBeInstanceOf(CommandTimeoutError);
      const entry = await app.entry(id);
      expect(entry.status).toBe('failed');
      expect(entry.errorMessage).toMatch(/commandTimeout \(100 ms\)/);
    });

    it('completes a handler that returns a plain value, with and without commandTimeout', async () => {
      for (const commandTimeout of [0, 5_000]) {
        const app = await start({ commandTimeout });
        const id = await app.scheduler.schedule(new SyncCommand(`t${commandTimeout}`));
        await app.runDue();
        const entry = await app.entry(id);
        expect(entry.status).toBe('completed');
        expect(await app.scheduler.getResult(id)).toBe(`t${commandTimeout}:1`);
        await app.close();
        t = undefined;
      }
    });
  });

  describe('without an argument', () => {
    it('throws AsyncContextDisabledError, in a handler and outside, unless asyncContext is set', async () => {
      const app = await start();
      await app.scheduler.schedule(new ProbeCommand('no-option'));
      await app.runDue();
      const [run] = app.app.get(Probes).runs;
      expect(run.byCommand).toBeDefined();
      for (const seen of [run.ambientBefore, run.ambientAfterAwait, run.ambientDeep]) {
        expect(seen.context).toBeUndefined();
        expect(seen.error).toBeInstanceOf(AsyncContextDisabledError);
      }
      const outside = ambient().error as Error;
      expect(outside).toBeInstanceOf(AsyncContextDisabledError);
      expect(outside.message).toContain('getScheduledCommandContext(command)');
      expect(outside.message).toContain('asyncContext: true');
    });

    it('with asyncContext: true, finds the run anywhere in the handler, after awaits too', async () => {
      const app = await start({ asyncContext: true });
      const id = await app.scheduler.schedule(new ProbeCommand('ambient'));
      await app.runDue();
      const [run] = app.app.get(Probes).runs;
      expect(run.byCommand?.commandId).toBe(id);
      for (const seen of [run.ambientBefore, run.ambientAfterAwait, run.ambientDeep]) {
        expect(seen.error).toBeUndefined();
        expect(seen.context).toBe(run.byCommand);
      }
      // Outside a run, and for a command sent directly: no context, no error.
      expect(ambient()).toEqual({ context: undefined });
      await app.commandBus.execute(new ProbeCommand('direct'));
      const direct = app.app.get(Probes).runs[1];
      expect(direct.byCommand).toBeUndefined();
      expect(direct.ambientBefore).toEqual({ context: undefined });
      expect(direct.ambientDeep).toEqual({ context: undefined });
    });

    it('keeps concurrent runs apart with asyncContext: true', async () => {
      const app = await start({ asyncContext: true, concurrency: 5 });
      const ids = await app.scheduler.scheduleMany(
        ['c1', 'c2', 'c3', 'c4', 'c5'].map((label) => ({ command: new ProbeCommand(label) })),
      );
      await app.runDue();
      const runs = app.app.get(Probes).runs;
      expect(runs).toHaveLength(5);
      expect(new Set(runs.map((r) => r.byCommand?.commandId))).toEqual(new Set(ids));
      for (const run of runs) {
        expect(run.ambientAfterAwait.context).toBe(run.byCommand);
        expect(run.ambientDeep.context).toBe(run.byCommand);
      }
    });

    it('throws again once the module that set asyncContext: true has closed', async () => {
      const app = await start({ asyncContext: true });
      expect(ambient().error).toBeUndefined();
      await app.close();
      t = undefined;
      expect(ambient().error).toBeInstanceOf(AsyncContextDisabledError);
    });
  });

  describe('the asyncContext option', () => {
    it.each([['yes'], [1], [{}]])('fails the start-up for %j, naming the field', async (value) => {
      const error = await Test.createTestingModule({
        imports: [
          CqrsModule.forRoot(),
          ScheduledCommandsModule.forRoot({
            store: new InMemoryScheduledCommandStore(),
            asyncContext: value as never,
          }),
        ],
      })
        .compile()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(InvalidModuleOptionsError);
      expect((error as InvalidModuleOptionsError).field).toBe('asyncContext');
      expect((error as Error).message).toContain('"asyncContext"');
    });
  });
});
