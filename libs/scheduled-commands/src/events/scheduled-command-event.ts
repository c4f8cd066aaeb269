import type { IEvent } from '@nestjs/cqrs';
import type {
  ScheduledCommandEntry,
  ScheduledCommandMetadata,
} from '../store/scheduled-command-entry.js';

/** Fields every lifecycle event carries. */
export abstract class ScheduledCommandEvent implements IEvent {
  /** The entry's id. */
  readonly commandId: string;
  /** The stable command name (`@ScheduledCommand(name)`). */
  readonly commandType: string;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
  /** The recurring schedule the entry is an occurrence of, or `null`. */
  readonly recurringName: string | null;

  protected constructor(
    entry: Pick<ScheduledCommandEntry, 'id' | 'commandType' | 'correlationId' | 'metadata'> &
      Partial<Pick<ScheduledCommandEntry, 'recurringName'>>,
  ) {
    this.commandId = entry.id;
    this.commandType = entry.commandType;
    this.correlationId = entry.correlationId;
    this.metadata = entry.metadata;
    this.recurringName = entry.recurringName ?? null;
  }
}
