import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  CommandScheduler,
  ScheduledCommandStore,
  type FindResult,
  type RequeueableStatus,
  type ScheduledCommandEntry,
  type ScheduledCommandFilter,
  type ScheduledCommandStatistics,
  type ScheduledCommandStatus,
  type ScheduleTime,
} from 'nestjs-scheduled-commands';
import { describeStatus } from './describe-status.js';

/** Answer of `GET /admin/scheduled-commands`: how many entries are in each status. */
export interface ScheduledCommandCounts {
  readonly pending: number;
  readonly processing: number;
  readonly failed: number;
  readonly completed: number;
  readonly cancelled: number;
  readonly expired: number;
}

/** Answer of `GET /admin/scheduled-commands/:id`: the entry, a one-line description and its result. */
export type ScheduledCommandDetails = ScheduledCommandEntry & {
  readonly description: string;
  /** The handler's return value, once completed. */
  readonly result?: unknown;
};

/** Query of `GET /admin/scheduled-commands/entries`. */
export interface FindEntriesQuery {
  /** One status or several separated by commas (`failed,expired`). */
  status?: string;
  commandType?: string;
  correlationId?: string;
  /** 1..1000. @default 50 */
  limit?: string;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** @default 'desc' (newest first) */
  order?: string;
}

/** Body of `POST /admin/scheduled-commands/:id/reschedule`: exactly one of the two. */
export interface RescheduleBody {
  /** Milliseconds from now. */
  delay?: unknown;
  /** An ISO 8601 date-time. */
  scheduledFor?: unknown;
}

/** Body of `POST /admin/scheduled-commands/:id/retry` (optional). */
export interface RetryBody {
  /** Statuses the entry may be requeued from. @default ['failed'] */
  statuses?: RequeueableStatus[];
}

/**
 * Monitoring and management of scheduled commands (the "Monitor the Store" example of the original
 * document, grown into a small admin API). Library errors about bad input become 400 through
 * `ScheduledCommandsExceptionFilter`; an unknown id is 404; an action that does not apply to the
 * entry's current status is 409.
 */
@Controller('admin/scheduled-commands')
export class ScheduledCommandsAdminController {
  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly scheduler: CommandScheduler,
  ) {}

  /** `GET /admin/scheduled-commands`: counts per status. */
  @Get()
  async counts(): Promise<ScheduledCommandCounts> {
    const pending = await this.store.getPendingCount();
    const failed = await this.store.getFailedCount();
    const processing = await this.store.getProcessingCount();
    const { completed, cancelled, expired } = await this.store.countByStatus();
    return { pending, processing, failed, completed, cancelled, expired };
  }

  /** `GET /admin/scheduled-commands/statistics`: counts, total, oldest pending, retries waiting, backlog. */
  @Get('statistics')
  statistics(): Promise<ScheduledCommandStatistics> {
    return this.scheduler.getStatistics();
  }

  /** `GET /admin/scheduled-commands/entries?status=&commandType=&correlationId=&limit=&cursor=&order=`: one page. */
  @Get('entries')
  entries(@Query() query: FindEntriesQuery): Promise<FindResult> {
    const filter: ScheduledCommandFilter = {
      ...(query.status !== undefined && {
        status: query.status.split(',').map((s) => s.trim()) as ScheduledCommandStatus[],
      }),
      ...(query.commandType !== undefined && { commandType: query.commandType }),
      ...(query.correlationId !== undefined && { correlationId: query.correlationId }),
    };
    let limit: number | undefined;
    if (query.limit !== undefined) {
      limit = Number(query.limit);
      if (!/^\d+$/.test(query.limit) || limit < 1 || limit > 1000) {
        throw new BadRequestException('"limit" must be an integer from 1 to 1000.');
      }
    }
    if (query.order !== undefined && query.order !== 'asc' && query.order !== 'desc') {
      throw new BadRequestException('"order" must be "asc" or "desc".');
    }
    return this.scheduler.find(filter, {
      ...(limit !== undefined && { limit }),
      ...(query.cursor !== undefined && { cursor: query.cursor }),
      ...(query.order !== undefined && { order: query.order }),
    });
  }

  /** `GET /admin/scheduled-commands/:id`: one entry (404 when unknown). */
  @Get(':id')
  async get(@Param('id') id: string): Promise<ScheduledCommandDetails> {
    const entry = await this.scheduler.getStatus(id);
    if (!entry) throw new NotFoundException(`Scheduled command ${id} not found.`);
    const result = entry.status === 'completed' ? await this.scheduler.getResult(id) : undefined;
    return {
      ...entry,
      description: describeStatus(entry),
      ...(result !== undefined && { result }),
    };
  }

  /** `POST /admin/scheduled-commands/:id/cancel`: cancels a pending command (409 when it is not pending). */
  @Post(':id/cancel')
  @HttpCode(HttpStatus.OK)
  async cancel(@Param('id') id: string): Promise<ScheduledCommandDetails> {
    if (!(await this.scheduler.cancel(id)))
      await this.refuse(id, 'only pending commands can be cancelled');
    return this.get(id);
  }

  /**
   * `POST /admin/scheduled-commands/:id/retry`: puts a dead-lettered command (or, with
   * `{ statuses }`, an expired or cancelled one) back to pending, due now.
   */
  @Post(':id/retry')
  @HttpCode(HttpStatus.OK)
  async retry(
    @Param('id') id: string,
    @Body() body: RetryBody = {},
  ): Promise<ScheduledCommandDetails> {
    const statuses = body.statuses ?? ['failed'];
    if (!(await this.scheduler.retry(id, { statuses }))) {
      await this.refuse(
        id,
        `only commands in status ${statuses.join(' or ')} can be retried (or its idempotency key is in use)`,
      );
    }
    return this.get(id);
  }

  /** `POST /admin/scheduled-commands/:id/reschedule` with `{ delay }` or `{ scheduledFor }`: moves a pending command. */
  @Post(':id/reschedule')
  @HttpCode(HttpStatus.OK)
  async reschedule(
    @Param('id') id: string,
    @Body() body: RescheduleBody = {},
  ): Promise<ScheduledCommandDetails> {
    const time: Record<string, unknown> = {};
    if (body.delay !== undefined) time.delay = body.delay;
    if (body.scheduledFor !== undefined) {
      // JSON has no dates: anything other than a string is passed on as is, and the scheduler rejects it.
      time.scheduledFor =
        typeof body.scheduledFor === 'string' ? new Date(body.scheduledFor) : body.scheduledFor;
    }
    if (!(await this.scheduler.reschedule(id, time as ScheduleTime))) {
      await this.refuse(id, 'only pending commands can be rescheduled');
    }
    return this.get(id);
  }

  /** `POST /admin/scheduled-commands/retry-failed` with an optional `{ commandType }`: requeues dead letters. */
  @Post('retry-failed')
  @HttpCode(HttpStatus.OK)
  async retryFailed(@Body() body: { commandType?: string } = {}): Promise<{ requeued: string[] }> {
    const requeued = await this.scheduler.retryFailed(
      body.commandType !== undefined ? { commandType: body.commandType } : undefined,
    );
    return { requeued };
  }

  /** Explains why an action changed nothing: 404 for an unknown id, 409 otherwise. */
  private async refuse(id: string, rule: string): Promise<never> {
    const entry = await this.scheduler.getStatus(id);
    if (!entry) throw new NotFoundException(`Scheduled command ${id} not found.`);
    throw new ConflictException(`Scheduled command ${id} is ${entry.status}: ${rule}.`);
  }
}
