/** Options of {@link startMariadb}. */
export interface StartMariadbOptions {
  /** Install Debian's `mariadb-server` with apt-get when it is missing (only as root on Debian/Ubuntu). @default true */
  install?: boolean;
  /** How long to wait for the server to accept connections, in milliseconds. @default 60000 */
  startTimeoutMs?: number;
  /** When false, print progress lines to stderr. @default true */
  quiet?: boolean;
  /** More `mariadbd` options, after the script's own (e.g. `--log-bin`). @default [] */
  serverArgs?: string[];
}

/** A running throw-away MariaDB server. */
export interface MariadbServer {
  /** `mysql://root@127.0.0.1:<port>/scheduled_commands` (no password). */
  readonly url: string;
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** Data directory; removed by `stop()`. */
  readonly dataDir: string;
  /** Stops the server and removes its files; safe to call more than once. */
  stop(): Promise<void>;
  /** Stops the server cleanly, dropping every connection, and starts it again on the same port and data. */
  restart(): Promise<void>;
}

/** Database created on start and named by the URL. */
export declare const MARIADB_DATABASE: string;

/** Error thrown when a server cannot be started: `message` is the reason, `details` the log. */
export declare class MariadbStartError extends Error {
  constructor(message: string, details?: string);
  /** Tool or server output that explains the failure (may be empty). */
  details: string;
}

/**
 * Starts a throw-away MariaDB server in a new temporary directory.
 * @throws {MariadbStartError} when it cannot be started.
 */
export declare function startMariadb(opts?: StartMariadbOptions): Promise<MariadbServer>;
