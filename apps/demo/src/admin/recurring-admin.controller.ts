import { Controller, Get, NotFoundException, Param, Post } from '@nestjs/common';
import { CommandScheduler, type RecurringSchedule } from 'nestjs-scheduled-commands';

/** The recurring schedules: list, look at one, trigger, pause and resume. Unknown names are 404. */
@Controller('admin/recurring')
export class RecurringAdminController {
  constructor(private readonly scheduler: CommandScheduler) {}

  /** `GET /admin/recurring`: every schedule with its next and last run. */
  @Get()
  list(): Promise<RecurringSchedule[]> {
    return this.scheduler.listRecurring();
  }

  /** `GET /admin/recurring/:name`: one schedule and its latest occurrences. */
  @Get(':name')
  async get(@Param('name') name: string) {
    const schedule = await this.scheduler.getRecurring(name);
    if (!schedule) throw new NotFoundException(`No recurring schedule "${name}"`);
    const { items } = await this.scheduler.find({ recurringName: name }, { limit: 10 });
    return { schedule, occurrences: items };
  }

  /** `POST /admin/recurring/:name/trigger`: one occurrence now; answers its entry id. */
  @Post(':name/trigger')
  async trigger(@Param('name') name: string): Promise<{ id: string }> {
    const id = await this.scheduler.triggerRecurring(name);
    if (!id) throw new NotFoundException(`No recurring schedule "${name}"`);
    return { id };
  }

  /** `POST /admin/recurring/:name/pause`. */
  @Post(':name/pause')
  async pause(@Param('name') name: string): Promise<{ paused: true }> {
    if (!(await this.scheduler.pauseRecurring(name))) throw new NotFoundException(name);
    return { paused: true };
  }

  /** `POST /admin/recurring/:name/resume`. */
  @Post(':name/resume')
  async resume(@Param('name') name: string): Promise<{ paused: false }> {
    if (!(await this.scheduler.resumeRecurring(name))) throw new NotFoundException(name);
    return { paused: false };
  }
}
