import { describe, expect, it } from 'vitest';
import { isUuid } from '../util/uuid.js';
import { newCommand } from './new-command.js';

describe('newCommand', () => {
  it('builds a valid command due now with a fresh time-ordered id', () => {
    const a = newCommand();
    const b = newCommand();
    expect(isUuid(a.id)).toBe(true);
    expect(a.id < b.id).toBe(true);
    expect(a).toEqual({
      id: a.id,
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
    });
  });

  it('applies overrides', () => {
    const c = newCommand({ priority: 5, idempotencyKey: 'k', metadata: { a: 'b' } });
    expect(c.priority).toBe(5);
    expect(c.idempotencyKey).toBe('k');
    expect(c.metadata).toEqual({ a: 'b' });
  });
});
