/** Settings of the demo application, read from the environment when the app starts. */
export interface DemoConfig {
  /** HTTP port (`PORT`). @default 3000 */
  readonly port: number;
  /** SQLite file (`DEMO_DATABASE`), relative to the working directory. @default 'demo.sqlite' */
  readonly database: string;
  /** Whether the story runs at start-up (`DEMO_STORY=off` turns it off). @default true */
  readonly story: boolean;
}

/**
 * Reads the demo's settings from `process.env`. Called at start-up (not at import time), so tests
 * can set the variables before they create the application.
 * @throws Error when `PORT` is not an integer from 0 to 65535.
 */
export function demoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  return {
    port,
    database: env.DEMO_DATABASE || 'demo.sqlite',
    story: env.DEMO_STORY?.toLowerCase() !== 'off',
  };
}

/** Injection token of the {@link DemoConfig} read at start-up. */
export const DEMO_CONFIG = Symbol('DEMO_CONFIG');
