import { afterEach, describe, expect, it } from 'vitest';
import { AsyncContextDisabledError, InvalidModuleOptionsError } from '../errors/index.js';
import {
  resolveScheduledCommandsOptions,
  SCHEDULED_COMMANDS_DEFAULTS,
} from '../scheduled-commands.options.js';
import { LazyAbort } from './lazy-abort.js';
import {
  attachScheduledCommandContext,
  enableAsyncScheduledCommandContext,
  getScheduledCommandContext,
  runInScheduledCommandContext,
  type ScheduledCommandContext,
} from './scheduled-command-context.js';

class SendInvoice {
  constructor(
    readonly invoiceId: string,
    readonly copies: number,
  ) {}
}

const contextOf = (commandId: string, abort = new LazyAbort()): ScheduledCommandContext => ({
  commandId,
  commandType: 'send-invoice',
  attempt: 1,
  retryCount: 0,
  maxRetries: 3,
  correlationId: null,
  metadata: null,
  get signal() {
    return abort.signal;
  },
  transaction: () => Promise.reject(new Error('not in these tests')),
});

describe('getScheduledCommandContext(command)', () => {
  it('returns the context attached to that very instance, and undefined for any other', () => {
    const command = new SendInvoice('inv-1', 2);
    const context = contextOf('id-1');
    attachScheduledCommandContext(command, context);
    expect(getScheduledCommandContext(command)).toBe(context);
    expect(getScheduledCommandContext(new SendInvoice('inv-1', 2))).toBeUndefined();
    expect(getScheduledCommandContext({})).toBeUndefined();
    expect(getScheduledCommandContext(null as never)).toBeUndefined();
  });

  it('hides the context from keys, JSON, spreads and structuredClone, and refuses to overwrite it', () => {
    const command = new SendInvoice('inv-2', 1);
    attachScheduledCommandContext(command, contextOf('id-2'));
    expect(Object.keys(command)).toEqual(['invoiceId', 'copies']);
    expect(JSON.stringify(command)).toBe('{"invoiceId":"inv-2","copies":1}');
    expect(getScheduledCommandContext({ ...command })).toBeUndefined();
    expect(getScheduledCommandContext(structuredClone(command))).toBeUndefined();

    const [key] = Object.getOwnPropertySymbols(command);
    expect(Object.getOwnPropertyDescriptor(command, key)).toMatchObject({
      enumerable: false,
      writable: false,
      configurable: false,
    });
    // Modules are strict: assigning a read-only property throws instead of doing nothing.
    expect(() => {
      (command as unknown as Record<symbol, unknown>)[key] = contextOf('forged');
    }).toThrow(TypeError);
    expect(getScheduledCommandContext(command)?.commandId).toBe('id-2');
  });

  it('does not create the signal until it is read', () => {
    let created = 0;
    const abort = new LazyAbort();
    const command = new SendInvoice('inv-3', 1);
    attachScheduledCommandContext(command, {
      ...contextOf('id-3'),
      get signal() {
        created++;
        return abort.signal;
      },
    });
    const context = getScheduledCommandContext(command)!;
    expect(context.commandId).toBe('id-3');
    expect(created).toBe(0);
    abort.abort(new Error('lease lost'));
    expect(context.signal.aborted).toBe(true);
    expect(created).toBe(1);
  });
});

describe('getScheduledCommandContext() without an argument', () => {
  const withdrawals: (() => void)[] = [];
  const enable = () => {
    const withdraw = enableAsyncScheduledCommandContext();
    withdrawals.push(withdraw);
    return withdraw;
  };

  afterEach(() => {
    for (const withdraw of withdrawals.splice(0)) withdraw();
  });

  it('throws AsyncContextDisabledError while no module enabled the ambient context', () => {
    expect(() => getScheduledCommandContext()).toThrow(AsyncContextDisabledError);
    expect(() => getScheduledCommandContext(undefined)).toThrow(
      /getScheduledCommandContext\(command\).*asyncContext: true/,
    );
  });

  it('once enabled, returns the ambient run across awaits and undefined outside a run', async () => {
    enable();
    expect(getScheduledCommandContext()).toBeUndefined();
    const context = contextOf('ambient');
    const seen = await runInScheduledCommandContext(context, async () => {
      const before = getScheduledCommandContext();
      await new Promise((resolve) => setTimeout(resolve, 1));
      const afterTimer = getScheduledCommandContext();
      await Promise.resolve();
      return [before, afterTimer, getScheduledCommandContext()];
    });
    expect(seen).toEqual([context, context, context]);
    expect(getScheduledCommandContext()).toBeUndefined();
  });

  it('throws again once every enabling module withdrew, counting each module once', () => {
    const first = enable();
    const second = enable();
    first();
    first();
    expect(getScheduledCommandContext()).toBeUndefined();
    second();
    expect(() => getScheduledCommandContext()).toThrow(AsyncContextDisabledError);
  });

  it('keeps the context of a run that started before its module withdrew', async () => {
    const withdraw = enable();
    const context = contextOf('late');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const run = runInScheduledCommandContext(context, async () => {
      await gate;
      return getScheduledCommandContext();
    });
    withdraw();
    release();
    expect(await run).toBe(context);
  });
});

describe('the asyncContext option', () => {
  it('defaults to false and keeps a given boolean', () => {
    expect(SCHEDULED_COMMANDS_DEFAULTS.asyncContext).toBe(false);
    expect(resolveScheduledCommandsOptions({}).asyncContext).toBe(false);
    expect(resolveScheduledCommandsOptions({ asyncContext: true }).asyncContext).toBe(true);
  });

  it.each([['true'], [1], [{}]])('rejects %j with an error naming the field', (value) => {
    expect(() => resolveScheduledCommandsOptions({ asyncContext: value as never })).toThrow(
      InvalidModuleOptionsError,
    );
    try {
      resolveScheduledCommandsOptions({ asyncContext: value as never });
    } catch (error) {
      expect((error as InvalidModuleOptionsError).field).toBe('asyncContext');
      expect((error as Error).message).toContain('"asyncContext"');
    }
  });
});
