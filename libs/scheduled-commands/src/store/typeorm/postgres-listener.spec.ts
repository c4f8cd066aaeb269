import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PostgresListener } from './postgres-listener.js';

/** A stand-in for a `pg` client: fails to connect while `failing`, records what it is asked. */
class FakeClient extends EventEmitter {
  static failing = 0;
  static created: FakeClient[] = [];
  readonly queries: string[] = [];
  ended = false;

  constructor() {
    super();
    FakeClient.created.push(this);
  }

  async connect(): Promise<void> {
    if (FakeClient.failing > 0) {
      FakeClient.failing -= 1;
      throw new Error('connection refused');
    }
  }

  async query(sql: string): Promise<void> {
    this.queries.push(sql);
  }

  async end(): Promise<void> {
    this.ended = true;
  }

  /** Simulates the server closing the connection. */
  drop(): void {
    this.emit('error', new Error('terminating connection due to administrator command'));
    this.emit('end');
  }
}

const backoff = { initialMs: 5, maxMs: 20 };
const settle = (ms = 60) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgresListener', () => {
  beforeEach(() => {
    FakeClient.failing = 0;
    FakeClient.created = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('listens on the channel and calls onNotify for its notifications only', async () => {
    const onNotify = vi.fn();
    const listener = new PostgresListener(
      () => new FakeClient(),
      'scheduled_commands',
      onNotify,
      backoff,
    );
    await listener.start();
    const [client] = FakeClient.created;
    expect(client.queries).toEqual(['LISTEN "scheduled_commands"']);
    client.emit('notification', { channel: 'scheduled_commands' });
    client.emit('notification', { channel: 'something_else' });
    expect(onNotify).toHaveBeenCalledTimes(1);
    await listener.close();
    expect(client.ended).toBe(true);
  });

  it('keeps retrying with backoff when it cannot connect, then listens', async () => {
    FakeClient.failing = 3;
    const onNotify = vi.fn();
    const listener = new PostgresListener(() => new FakeClient(), 'ch', onNotify, backoff);
    await listener.start();
    expect(FakeClient.created).toHaveLength(1);
    await settle(200);
    expect(FakeClient.created).toHaveLength(4);
    const last = FakeClient.created[3];
    expect(last.queries).toEqual(['LISTEN "ch"']);
    // Back after failures: one call for what may have been missed.
    expect(onNotify).toHaveBeenCalledTimes(1);
    expect(Logger.prototype.warn).toHaveBeenCalledWith(
      expect.stringContaining('connection refused'),
    );
    await listener.close();
  });

  it('reconnects after the connection drops and calls onNotify once for the gap', async () => {
    const onNotify = vi.fn();
    const listener = new PostgresListener(() => new FakeClient(), 'ch', onNotify, backoff);
    await listener.start();
    FakeClient.created[0].drop();
    await settle();
    expect(FakeClient.created).toHaveLength(2);
    expect(FakeClient.created[0].ended).toBe(true);
    expect(onNotify).toHaveBeenCalledTimes(1);
    FakeClient.created[1].emit('notification', { channel: 'ch' });
    expect(onNotify).toHaveBeenCalledTimes(2);
    await listener.close();
  });

  it('stops for good on close(), also while it waits to reconnect', async () => {
    FakeClient.failing = 1_000;
    const listener = new PostgresListener(
      () => new FakeClient(),
      'ch',
      () => undefined,
      backoff,
    );
    await listener.start();
    await listener.close();
    const attempts = FakeClient.created.length;
    await settle();
    expect(FakeClient.created).toHaveLength(attempts);
  });

  it('survives an onNotify that throws', async () => {
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const listener = new PostgresListener(
      () => new FakeClient(),
      'ch',
      () => {
        throw new Error('handler bug');
      },
      backoff,
    );
    await listener.start();
    expect(() => FakeClient.created[0].emit('notification', { channel: 'ch' })).not.toThrow();
    expect(error).toHaveBeenCalledWith(expect.stringContaining('handler bug'), expect.any(String));
    await listener.close();
  });
});
