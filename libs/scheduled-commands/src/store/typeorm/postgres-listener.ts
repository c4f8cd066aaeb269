import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { StoreWatch } from '../scheduled-command-store.js';

/** The subset of a `pg` client the listener uses. */
interface ListenClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(): unknown;
}

type ClientFactory = () => ListenClient;

/** Reconnection delays: doubling from the first to the last, with up to 20 % jitter. */
export interface ReconnectBackoff {
  /** @default 100 */
  readonly initialMs: number;
  /** @default 10000 */
  readonly maxMs: number;
}

const DEFAULT_BACKOFF: ReconnectBackoff = { initialMs: 100, maxMs: 10_000 };

/**
 * Builds `pg` client settings from a PostgreSQL `DataSource`, the way TypeORM builds its pool
 * (URL, host, port, credentials, SSL, application name, connect timeout and `extra`), so that the
 * listener reaches the same server with the same credentials (the primary when replication is set).
 */
export function listenClientFactory(dataSource: DataSource): ClientFactory {
  const driver = dataSource.driver as unknown as {
    postgres?: { Client: new (config: object) => ListenClient };
  };
  const pg = driver.postgres;
  if (!pg?.Client) {
    throw new Error('The PostgreSQL driver of this DataSource has no pg Client to listen with.');
  }
  const options = dataSource.options as unknown as Record<string, unknown> & {
    replication?: { master?: Record<string, unknown> };
    extra?: Record<string, unknown>;
  };
  const credentials = options.replication?.master ?? options;
  const config = {
    connectionString: credentials.url,
    host: credentials.host,
    user: credentials.username,
    password: credentials.password,
    database: credentials.database,
    port: credentials.port,
    ssl: credentials.ssl,
    connectionTimeoutMillis: options.connectTimeoutMS,
    application_name: options.applicationName ?? credentials.applicationName,
    ...(options.extra ?? {}),
  };
  return () => new pg.Client(config);
}

/**
 * A dedicated connection that `LISTEN`s on a channel and calls `onNotify` for each notification.
 * When the connection drops it reconnects with exponential backoff and then calls `onNotify` once,
 * since notifications sent in between are lost. `close()` ends it for good.
 */
export class PostgresListener implements StoreWatch {
  private readonly logger = new Logger('TypeOrmScheduledCommandStore');
  private client: ListenClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private failures = 0;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly createClient: ClientFactory,
    private readonly channel: string,
    private readonly onNotify: () => void,
    private readonly backoff: ReconnectBackoff = DEFAULT_BACKOFF,
  ) {}

  /**
   * Connects and starts listening. Resolves once listening, or after the first failure is logged
   * (it then keeps retrying in the background).
   */
  async start(): Promise<void> {
    await this.attempt(false);
  }

  /** Stops listening for good: cancels any pending reconnection and ends the connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A connection being opened right now is disposed of as soon as it is up.
    await this.connecting;
    const client = this.client;
    this.client = null;
    if (client) await this.dispose(client);
  }

  private attempt(reconnecting: boolean): Promise<void> {
    this.connecting = this.connect(reconnecting).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(reconnecting: boolean): Promise<void> {
    if (this.closed) return;
    const client = this.createClient();
    let state: 'connecting' | 'listening' | 'lost' = 'connecting';
    let droppedWhileConnecting: Error | undefined;
    const onLost = (error?: Error) => {
      if (state === 'connecting') {
        droppedWhileConnecting = error ?? new Error('connection ended');
        return;
      }
      if (state === 'lost') return;
      state = 'lost';
      if (this.client === client) this.client = null;
      void this.dispose(client);
      if (this.closed) return;
      this.logger.warn(
        `The LISTEN connection to PostgreSQL was lost${error ? `: ${error.message}` : ''}; reconnecting.`,
      );
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.notify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
      if (droppedWhileConnecting) throw droppedWhileConnecting;
    } catch (error) {
      state = 'lost';
      void this.dispose(client);
      if (this.closed) return;
      this.failures += 1;
      this.logger.warn(
        `Could not LISTEN on PostgreSQL (attempt ${this.failures}): ${(error as Error).message}; retrying.`,
      );
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      state = 'lost';
      void this.dispose(client);
      return;
    }
    state = 'listening';
    this.client = client;
    this.failures = 0;
    if (reconnecting) {
      this.logger.log('The LISTEN connection to PostgreSQL is back.');
      // Notifications sent while disconnected are lost: look again now.
      this.notify();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    const base = Math.min(
      this.backoff.maxMs,
      this.backoff.initialMs * 2 ** Math.min(this.failures, 20),
    );
    const delay = Math.round(base * (0.8 + Math.random() * 0.2));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.attempt(true);
    }, delay);
    this.timer.unref?.();
  }

  private notify(): void {
    try {
      this.onNotify();
    } catch (error) {
      this.logger.error(`onScheduled threw: ${(error as Error).message}`, (error as Error).stack);
    }
  }

  private async dispose(client: ListenClient): Promise<void> {
    try {
      await client.end();
    } catch {
      // Already closed or broken: nothing left to release.
    }
    // Keep a no-op error handler: a late socket error must not crash the process.
    client.removeAllListeners();
    client.on('error', () => undefined);
  }
}
