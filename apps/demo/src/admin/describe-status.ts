import { ScheduledCommandStatus, type ScheduledCommandEntry } from 'nestjs-scheduled-commands';

/**
 * One line about where a scheduled command stands (the "Checking Status" switch of the original
 * document): `null` (an unknown id) gives "Unknown command".
 */
export function describeStatus(entry: ScheduledCommandEntry | null): string {
  switch (entry?.status) {
    case ScheduledCommandStatus.Pending:
      return entry.retryCount > 0
        ? `Waiting for retry ${entry.retryCount} of ${entry.maxRetries} at ${entry.scheduledFor.toISOString()}`
        : `Waiting for execution at ${entry.scheduledFor.toISOString()}`;
    case ScheduledCommandStatus.Processing:
      return 'Processing...';
    case ScheduledCommandStatus.Completed:
      return `Completed at ${entry.completedAt?.toISOString()}`;
    case ScheduledCommandStatus.Failed:
      return `Failed after ${entry.attempts} attempt(s) (${entry.retryCount} retries): ${entry.errorMessage}`;
    case ScheduledCommandStatus.Cancelled:
      return 'Cancelled';
    case ScheduledCommandStatus.Expired:
      return 'Expired before execution';
    default:
      return 'Unknown command';
  }
}
