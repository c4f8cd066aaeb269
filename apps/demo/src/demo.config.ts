/** Settings of the demo application, read from the environment when the app starts. */
export interface DemoConfig {
  /** HTTP port (`PORT`). @default 3000 */
  readonly port: number;
  /** SQLite file (`DEMO_DATABASE`), relative to the working directory. @default 'demo.sqlite' */
  readonly database: string;
  /**
   * PostgreSQL, MySQL or MariaDB server instead of the SQLite file (`DEMO_DATABASE_URL`):
   * `postgres://`, `postgresql://`, `mysql://` or `mariadb://`.
   */
  readonly databaseUrl?: string;
  /** Whether the story runs at start-up (`DEMO_STORY=off` turns it off). @default true */
  readonly story: boolean;
}

/**
 * Reads the demo's settings from `process.env`. Called at start-up (not at import time), so tests
 * can set the variables before they create the application.
 * @throws Error when `PORT` is not an integer from 0 to 65535, or `DEMO_DATABASE_URL` has another
 *   scheme than `postgres`, `postgresql`, `mysql` or `mariadb`.
 */
export function demoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  const databaseUrl = env.DEMO_DATABASE_URL || undefined;
  if (databaseUrl && !/^(postgres|postgresql|mysql|mariadb):\/\//i.test(databaseUrl)) {
    throw new Error(
      'DEMO_DATABASE_URL must start with postgres://, postgresql://, mysql:// or mariadb://, got ' +
        JSON.stringify(redactUrl(databaseUrl)),
    );
  }
  return {
    port,
    database: env.DEMO_DATABASE || 'demo.sqlite',
    databaseUrl,
    story: env.DEMO_STORY?.toLowerCase() !== 'off',
  };
}

/** `url` with its user and password (if any) replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Where the demo keeps its data, for the start-up log: the redacted URL or the SQLite file. */
export function describeDemoDatabase(config: DemoConfig): string {
  return config.databaseUrl ? redactUrl(config.databaseUrl) : config.database;
}

/** Injection token of the {@link DemoConfig} read at start-up. */
export const DEMO_CONFIG = Symbol('DEMO_CONFIG');
