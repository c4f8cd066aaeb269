import { setTimeout as sleep } from 'node:timers/promises';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  CommandScheduler,
  FINISHED_STATUSES,
  ScheduledCommandStore,
  type ScheduledCommandEntry,
} from 'nestjs-scheduled-commands';
import { describeStatus } from '../admin/describe-status.js';
import { ProcessPaymentCommand } from '../billing/process-payment.command.js';
import { DEMO_CONFIG, describeDemoDatabase, type DemoConfig } from '../demo.config.js';
import {
  SendFollowUpEmailCommand,
  SendMarketingEmailCommand,
  SendPromoCodeCommand,
  SendReminderCommand,
  SendWelcomeEmailCommand,
} from '../emails/email.commands.js';
import { CallExternalApiCommand } from '../integrations/call-external-api.command.js';
import { ExternalApiService } from '../integrations/external-api.service.js';
import { ProcessReportCommand, type ReportResult } from '../reports/process-report.command.js';
import { ExecutionLog } from '../shared/execution-log.js';
import { RegisterUserCommand } from '../users/register-user.command.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = 8;

/** How long after registration the follow-up email goes out (7 days in the original example). */
export const FOLLOW_UP_DELAY = 2 * MINUTE;

/**
 * Acts out the original document's complete example and every feature around it, once, at start-up:
 * registration with a welcome and a follow-up email, a command with a result, retries and a dead
 * letter, cancel and reschedule, priority, expiry, idempotency and metadata. The worker runs the
 * commands in the background; the lifecycle events are logged by `ScheduledCommandEventsHandler`.
 *
 * The story runs only against a database it has not run against yet (the user it registers is the
 * marker), and every command it schedules carries an idempotency key. Restarting the app therefore
 * schedules nothing twice: the commands still pending from the previous run are simply resumed.
 */
@Injectable()
export class DemoStoryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DemoStory');
  private readonly abort = new AbortController();
  private story: Promise<void> | undefined;

  constructor(
    private readonly commandBus: CommandBus,
    private readonly scheduler: CommandScheduler,
    private readonly store: ScheduledCommandStore,
    private readonly api: ExternalApiService,
    private readonly executions: ExecutionLog,
    @Inject(DEMO_CONFIG) private readonly config: DemoConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.reportUnfinishedCommands();
    if (!this.config.story) {
      this.logger.log('DEMO_STORY=off: the story does not run.');
      return;
    }
    // Not awaited: the story takes a while, and the HTTP server should be up meanwhile.
    this.story = this.run().catch((error: unknown) => {
      if (this.abort.signal.aborted) {
        this.logger.warn('The application is stopping: the story stops here.');
      } else {
        this.logger.error(`The story failed: ${(error as Error).message}`, (error as Error).stack);
      }
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.abort.abort(new Error('shutting down'));
    await this.story;
  }

  /** Says which commands a previous run left pending (the worker resumes them). */
  private async reportUnfinishedCommands(): Promise<void> {
    const counts = await this.store.countByStatus();
    const unfinished = counts.pending + counts.processing;
    if (unfinished === 0) {
      this.logger.log(
        `Found 0 pending commands from a previous run in ${describeDemoDatabase(this.config)}.`,
      );
      return;
    }
    this.logger.log(
      `Found ${counts.pending} pending and ${counts.processing} processing command(s) from a previous run ` +
        `in ${describeDemoDatabase(this.config)}; the worker resumes them (processing ones once their lease runs out):`,
    );
    const { items } = await this.scheduler.find(
      { status: ['pending', 'processing'] },
      { order: 'asc', limit: 20 },
    );
    for (const entry of items)
      this.logger.log(`  - ${entry.commandType} ${entry.id}: ${describeStatus(entry)}`);
  }

  private async run(): Promise<void> {
    // 1. The original document's complete example: register, then schedule a welcome and a follow-up email.
    this.step(1, 'a user registers; a welcome email and a follow-up email are scheduled');
    const { user, created } = await this.commandBus.execute(
      new RegisterUserCommand('ada@example.com', 'Ada Lovelace'),
    );
    if (!created) {
      this.logger.log(
        `${user.name} was registered by a previous run: the story already ran against ${describeDemoDatabase(this.config)}, ` +
          'so it schedules nothing again; the worker runs what that run left pending. ' +
          'Start it on a new database (delete the file, or set DEMO_DATABASE or DEMO_DATABASE_URL) to watch the whole story again.',
      );
      return;
    }
    const correlationId = `story-${user.id.slice(0, 8)}`;
    this.logger.log(
      `${user.name} registered through CommandBus (user id ${user.id}); correlationId of this story: ${correlationId}.`,
    );

    const welcomeId = await this.scheduler.schedule(
      new SendWelcomeEmailCommand(user.id, user.email),
      {
        delay: 5 * SECOND,
        maxRetries: 3,
        correlationId,
      },
    );
    this.logger.log(
      `Welcome email scheduled 5 s from now: ${welcomeId} (${await this.status(welcomeId)}).`,
    );
    const welcomeAgain = await this.scheduler.schedule(
      new SendWelcomeEmailCommand(user.id, user.email),
      {
        delay: 5 * SECOND,
        correlationId,
      },
    );
    this.logger.log(
      `Scheduling it a second time returns ${welcomeAgain}: ${welcomeAgain === welcomeId ? 'the same entry' : 'A DIFFERENT ENTRY (unexpected)'}, ` +
        `thanks to the command's idempotencyKey property (welcome-email:<userId>).`,
    );
    const followUpId = await this.scheduler.schedule(new SendFollowUpEmailCommand(user.id), {
      delay: FOLLOW_UP_DELAY,
      expiresAfter: HOUR,
      correlationId,
      idempotencyKey: `follow-up-email:${user.id}`,
    });
    this.logger.log(
      `Follow-up email scheduled ${FOLLOW_UP_DELAY / MINUTE} minutes from now, expiring 1 hour after that ` +
        `(7 and 14 days in the original): ${followUpId}. Stop the app before it runs and start it again: it is still there.`,
    );

    // 2. A command with a response.
    this.step(2, 'a report is built in the background and its result read back');
    const endDate = new Date(Date.UTC(2026, 0, 7));
    const startDate = new Date(endDate.getTime() - 6 * DAY);
    const reportId = await this.scheduler.schedule(
      new ProcessReportCommand('sales', startDate, endDate),
      {
        delay: SECOND,
        correlationId,
        idempotencyKey: 'report:sales:2026-01-01..2026-01-07',
      },
    );
    this.logger.log(`ProcessReportCommand scheduled 1 s from now: ${reportId}.`);
    await this.waitUntilFinished(reportId);
    const report = await this.scheduler.getResult<ReportResult>(reportId);
    if (report) {
      this.logger.log(
        `getResult(): ${report.reportType} report, ${report.rows.length} rows, totals ${JSON.stringify(report.totals)}, ` +
          `first row ${report.rows[0]?.day.toISOString().slice(0, 10)}: ${report.rows[0]?.orders} orders; ` +
          `generatedAt ${report.generatedAt.toISOString()} is a ${report.generatedAt.constructor.name}, ` +
          `period.from is a ${report.period.from.constructor.name}.`,
      );
    } else {
      this.logger.warn(`No result for ${reportId}: ${await this.status(reportId)}`);
    }

    // 3. Retries with backoff, a dead letter, and a retry by hand once the cause is fixed.
    this.step(3, 'a flaky command is retried with backoff, then dead-lettered');
    this.api.available = false;
    const flakyId = await this.scheduler.schedule(
      new CallExternalApiCommand('https://partner.example.com/orders'),
      {
        maxRetries: 2,
        correlationId,
        idempotencyKey: `partner-sync:${user.id}`,
      },
    );
    this.logger.log(
      `CallExternalApiCommand scheduled with maxRetries 2: ${flakyId}. The partner API is down, so it fails, ` +
        'is retried after 1 s and 2 s (retryDelayBase 1 s, exponential backoff) and is then dead-lettered.',
    );
    const failed = await this.waitUntilFinished(flakyId);
    this.logger.log(
      `getStatus(): ${failed.status}, retryCount ${failed.retryCount}: ${describeStatus(failed)}`,
    );
    this.api.available = true;
    const requeued = await this.scheduler.retry(flakyId);
    this.logger.log(
      `The partner API is back; scheduler.retry() returned ${requeued}: the dead letter is pending again.`,
    );
    const recovered = await this.waitUntilFinished(flakyId);
    this.logger.log(
      `getStatus(): ${describeStatus(recovered)} (after ${recovered.attempts} attempts in all).`,
    );

    // 4. Cancel and reschedule.
    this.step(4, 'one command is cancelled, another rescheduled');
    const reminderId = await this.scheduler.schedule(
      new SendReminderCommand(user.id, 'Finish setting up your profile'),
      {
        delay: 7 * DAY,
        correlationId,
        idempotencyKey: `reminder:profile:${user.id}`,
      },
    );
    const cancelled = await this.scheduler.cancel(reminderId);
    this.logger.log(
      `Reminder scheduled 7 days ahead (${reminderId}), then cancel() returned ${cancelled}: ${await this.status(reminderId)}.`,
    );
    const trialId = await this.scheduler.schedule(
      new SendReminderCommand(user.id, 'Your trial ends soon'),
      {
        delay: HOUR,
        correlationId,
        idempotencyKey: `reminder:trial:${user.id}`,
      },
    );
    const moved = await this.scheduler.reschedule(trialId, { delay: SECOND });
    this.logger.log(
      `Reminder scheduled 1 hour ahead (${trialId}), reschedule() to 1 s from now returned ${moved}.`,
    );
    this.logger.log(`getStatus(): ${describeStatus(await this.waitUntilFinished(trialId))}.`);

    // 5. Priority: higher runs first among commands due at the same moment.
    this.step(5, 'high-priority work overtakes low-priority work');
    const dueAt = new Date(Date.now() + 2 * SECOND);
    const recipients = ['grace@example.com', 'alan@example.com', 'edsger@example.com'];
    const priorityIds = await this.scheduler.scheduleMany([
      ...recipients.map((to) => ({
        command: new SendMarketingEmailCommand(to, 'spring-sale'),
        options: {
          scheduledFor: dueAt,
          priority: 1,
          correlationId,
          idempotencyKey: `marketing:spring-sale:${to}`,
        },
      })),
      {
        command: new ProcessPaymentCommand('order-1001', 129.9),
        options: {
          scheduledFor: dueAt,
          priority: 10,
          correlationId,
          idempotencyKey: 'payment:order-1001',
        },
      },
    ]);
    this.logger.log(
      `Scheduled 3 marketing emails (priority 1) and then 1 payment (priority 10), all due at ${dueAt.toISOString()}.`,
    );
    await Promise.all(priorityIds.map((id) => this.waitUntilFinished(id)));
    const order = this.executions.list('send-marketing-email', 'process-payment');
    this.logger.log(`Run order: ${order.map((e) => e.label).join(' -> ')}`);
    this.logger.log(
      order[0]?.commandType === 'process-payment'
        ? 'The payment ran first although it was scheduled last: priority descending, then due time, then creation order.'
        : 'Unexpected: the payment did not run first.',
    );

    // 6. Expiry.
    this.step(6, 'a command that is too late expires instead of running');
    const promoId = await this.scheduler.schedule(new SendPromoCodeCommand(user.id, 'PROMO50'), {
      scheduledFor: new Date(Date.now() - MINUTE),
      expiresAfter: 30 * SECOND,
      correlationId,
      idempotencyKey: `promo:PROMO50:${user.id}`,
    });
    this.logger.log(
      `A promo code due a minute ago (say the app was down) and valid 30 s after its due time: ${promoId}.`,
    );
    this.logger.log(`getStatus(): ${describeStatus(await this.waitUntilFinished(promoId))}.`);

    // 7. Idempotency key as an option, metadata and correlationId.
    this.step(7, 'idempotency key, metadata and correlationId');
    const paymentOptions = {
      delay: 2 * SECOND,
      idempotencyKey: 'payment:order-1002',
      correlationId,
      metadata: { userId: user.id, source: 'WebHook' },
    };
    const first = await this.scheduler.schedule(
      new ProcessPaymentCommand('order-1002', 49.9),
      paymentOptions,
    );
    const second = await this.scheduler.schedule(
      new ProcessPaymentCommand('order-1002', 49.9),
      paymentOptions,
    );
    this.logger.log(
      `Scheduled the payment of order-1002 twice with idempotencyKey "payment:order-1002": ${first} and ${second}: ` +
        `${first === second ? 'one entry, stored once' : 'TWO ENTRIES (unexpected)'}.`,
    );
    const payment = await this.waitUntilFinished(first);
    this.logger.log(
      `Its entry carries correlationId ${payment.correlationId} and metadata ${JSON.stringify(payment.metadata)} ` +
        '(every lifecycle event carries them too, see the Completed line above).',
    );

    // 8. Summary.
    this.step(8, 'everything this story scheduled, found by its correlationId');
    await this.waitUntilFinished(welcomeId);
    const { items } = await this.scheduler.find({ correlationId }, { order: 'asc', limit: 50 });
    for (const entry of items) {
      this.logger.log(
        `  ${entry.commandType.padEnd(21)} ${entry.status.padEnd(10)} ${describeStatus(entry)}`,
      );
    }
    const counts = await this.store.countByStatus();
    this.logger.log(`Counts: ${JSON.stringify(counts)}`);
    this.logger.log(
      `The story is over. The follow-up email is still pending (${await this.status(followUpId)}): ` +
        'stop the app now (Ctrl+C) and start it again with `npm start`: it is found and sent on time.',
    );
  }

  private step(n: number, title: string): void {
    this.abort.signal.throwIfAborted();
    this.logger.log(`---- Step ${n}/${STEPS}: ${title} ----`);
  }

  private async status(id: string): Promise<string> {
    return describeStatus(await this.scheduler.getStatus(id));
  }

  /** Polls `getStatus()` until the entry reaches a finished status. */
  private async waitUntilFinished(
    id: string,
    timeoutMs = 30 * SECOND,
  ): Promise<ScheduledCommandEntry> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const entry = await this.scheduler.getStatus(id);
      if (entry && FINISHED_STATUSES.includes(entry.status)) return entry;
      if (Date.now() > deadline)
        throw new Error(
          `Command ${id} did not finish within ${timeoutMs} ms (${describeStatus(entry)}).`,
        );
      await sleep(100, undefined, { signal: this.abort.signal });
    }
  }
}
