/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Install PostgreSQL with apt-get when it is missing (only as root on Debian/Ubuntu). @default true */
  install?: boolean;
  /** How long to wait for the server to accept connections, in milliseconds. @default 60000 */
  startTimeoutMs?: number;
  /** When false, print progress lines to stderr. @default true */
  quiet?: boolean;
}

/** A running throw-away PostgreSQL server. */
export interface PostgresServer {
  /** Connection URL of the `postgres` database as superuser `postgres` (trust auth). */
  readonly url: string;
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** Cluster data directory; removed by `stop()`. */
  readonly dataDir: string;
  /** Stops the server and removes its files; safe to call more than once. */
  stop(): Promise<void>;
  /** Restarts the server (`pg_ctl restart -m fast`), dropping every connection. */
  restart(): Promise<void>;
}

/** Error thrown when a server cannot be started: `message` is the reason, `details` the log. */
export declare class PostgresStartError extends Error {
  constructor(message: string, details?: string);
  /** Tool or server output that explains the failure (may be empty). */
  details: string;
}

/**
 * Starts a throw-away PostgreSQL server (version 15 preferred) in a new temporary directory.
 * @throws {PostgresStartError} when it cannot be started.
 */
export declare function startPostgres(opts?: StartPostgresOptions): Promise<PostgresServer>;
