import type { NewScheduledCommand } from '../store/scheduled-command-entry.js';
import { uuidv7 } from '../util/uuid.js';

/**
 * Builds a valid {@link NewScheduledCommand} for store tests: a fresh time-ordered id (`uuidv7()`),
 * command type `'test-command'`, payload `'{}'`, due now (no `scheduledFor`, no `delay`), priority 0,
 * `maxRetries` 3 and every optional field `null`. `overrides` replace any of those fields.
 */
export function newCommand(overrides: Partial<NewScheduledCommand> = {}): NewScheduledCommand {
  return {
    id: uuidv7(),
    commandType: 'test-command',
    payload: '{}',
    scheduledFor: null,
    delay: null,
    priority: 0,
    maxRetries: 3,
    expiresAfter: null,
    correlationId: null,
    metadata: null,
    idempotencyKey: null,
    ...overrides,
  };
}
