import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { CommandBus, CommandHandlerNotFoundException, type ICommand } from '@nestjs/cqrs';
import {
  CommandDeserializationError,
  CommandSerializationError,
  CommandTimeoutError,
} from '../errors/index.js';
import { CommandRegistry } from '../registry/command-registry.js';
import { rebuildCommand, serializeResult } from '../registry/command-serializer.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import { messages } from '../scheduled-commands.messages.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { ScheduledCommandsTelemetry } from '../telemetry/scheduled-commands-telemetry.js';
import type { LazyAbort } from './lazy-abort.js';
import type { TransactionalRun } from './run-transaction.js';
import {
  attachScheduledCommandContext,
  enableAsyncScheduledCommandContext,
  RunContext,
  runInScheduledCommandContext,
} from './scheduled-command-context.js';

/** How one run ended. */
export type RunOutcome =
  /** `written`: the handler completed the command in its own transaction (`context.transaction()`). */
  | {
      readonly kind: 'completed';
      readonly result: unknown;
      readonly resultPayload: string | null;
      readonly written?: boolean;
    }
  /**
   * `permanent`: can never succeed (unknown name, unreadable payload, no handler): dead-letter without
   * retries. `settled`: set when the run timed out while its handler still runs; it resolves when the
   * handler has returned or thrown (a timeout fires the signal, it cannot stop the handler).
   */
  | {
      readonly kind: 'failed';
      readonly error: string;
      readonly permanent: boolean;
      readonly settled?: Promise<void>;
      /** What was thrown, for telemetry (the span records it). */
      readonly exception?: unknown;
    };

const errorText = (error: unknown): string => {
  if (error instanceof Error) return error.message || error.name;
  try {
    return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    return String(error);
  }
};

const ignore = (): void => undefined;

/** A completion the handler already committed in its own transaction: whatever came after, it stands. */
function committed(run: TransactionalRun | undefined): RunOutcome | undefined {
  const done = run?.committed;
  return (
    done && {
      kind: 'completed',
      result: done.result,
      resultPayload: done.resultPayload,
      written: true,
    }
  );
}

/** How a failed send through `CommandBus` ends: a missing handler can never succeed. */
function failure(commandType: string, error: unknown): RunOutcome {
  if (error instanceof CommandHandlerNotFoundException) {
    return {
      kind: 'failed',
      error: `No @CommandHandler is registered for "${commandType}" in this application.`,
      permanent: true,
      exception: error,
    };
  }
  return { kind: 'failed', error: errorText(error), permanent: false, exception: error };
}

/**
 * Runs one claimed entry: rebuilds the command as its registered class, attaches its
 * `ScheduledCommandContext` to it (and, with `asyncContext: true`, makes it the ambient context),
 * sends it through `CommandBus` bounded by `commandTimeout`, and turns what happened into a
 * {@link RunOutcome}. Never throws.
 */
@Injectable()
export class CommandRunner implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CommandRunner.name);
  private withdrawAsyncContext: (() => void) | undefined;

  constructor(
    private readonly commandBus: CommandBus,
    private readonly registry: CommandRegistry,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
    /** Where `context.transaction()` opens its transactions. */
    private readonly store: ScheduledCommandStore,
    @Optional() private readonly telemetry?: ScheduledCommandsTelemetry,
  ) {}

  onModuleInit(): void {
    if (this.options.asyncContext) this.withdrawAsyncContext = enableAsyncScheduledCommandContext();
  }

  // After every onModuleDestroy: the poller has drained its runs by then.
  onApplicationShutdown(): void {
    this.withdrawAsyncContext?.();
    this.withdrawAsyncContext = undefined;
  }

  /**
   * Runs `entry`; `abort` is fired by the caller on lease loss or shutdown, and here on timeout. `run`
   * (the held command) lets the handler complete it in its own transaction (`context.transaction()`).
   * A plain function ending in one `then` rather than an `async` one: it runs for every command,
   * and this allocates less per run.
   */
  run(entry: ScheduledCommandEntry, abort: LazyAbort, run?: TransactionalRun): Promise<RunOutcome> {
    // The one telemetry guard of a run: with no SDK registered, nothing else of telemetry is touched.
    if (this.telemetry?.active) {
      return this.telemetry.process(entry, () => this.runCommand(entry, abort, run));
    }
    return this.runCommand(entry, abort, run);
  }

  private runCommand(
    entry: ScheduledCommandEntry,
    abort: LazyAbort,
    run?: TransactionalRun,
  ): Promise<RunOutcome> {
    let command: object;
    try {
      const type = this.registry.resolve(entry.commandType);
      if (!type)
        throw new CommandDeserializationError(messages.unknownCommandType(entry.commandType));
      command = rebuildCommand(entry.commandType, type, entry.payload);
    } catch (error) {
      return Promise.resolve({
        kind: 'failed',
        error: errorText(error),
        permanent: true,
        exception: error,
      });
    }

    let execution: Promise<unknown>;
    try {
      const context = new RunContext(entry, abort, run && this.store, run);
      attachScheduledCommandContext(command, context);
      // A handler may return a plain value instead of a promise.
      execution = Promise.resolve(
        this.options.asyncContext
          ? runInScheduledCommandContext(context, () =>
              this.commandBus.execute(command as ICommand),
            )
          : this.commandBus.execute(command as ICommand),
      );
    } catch (error) {
      return Promise.resolve(failure(entry.commandType, error));
    }
    const outcome = execution.then(
      (result) => committed(run) ?? this.completed(entry.commandType, result),
      (error: unknown) => committed(run) ?? failure(entry.commandType, error),
    );
    const ms = this.options.commandTimeout;
    return ms > 0 ? this.withTimeout(outcome, execution, abort, ms) : outcome;
  }

  private completed(commandType: string, result: unknown): RunOutcome {
    try {
      return { kind: 'completed', result, resultPayload: serializeResult(commandType, result) };
    } catch (error) {
      // The handler did its work; running it again would repeat it. Keep the completion, drop the result.
      if (!(error instanceof CommandSerializationError)) throw error;
      this.logger.warn(`${error.message} The command is completed without a stored result.`);
      return { kind: 'completed', result, resultPayload: null };
    }
  }

  /**
   * `outcome`, or a failed one after `ms`: the signal fires and the outcome carries `settled`, which
   * resolves once the handler (still running: nothing can stop it from outside) has returned.
   */
  private withTimeout(
    outcome: Promise<RunOutcome>,
    execution: Promise<unknown>,
    abort: LazyAbort,
    ms: number,
  ): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new CommandTimeoutError(ms, messages.commandTimeout(ms));
        abort.abort(error);
        resolve({
          kind: 'failed',
          error: errorText(error),
          permanent: false,
          settled: execution.then(ignore, ignore),
          exception: error,
        });
      }, ms);
      outcome.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
