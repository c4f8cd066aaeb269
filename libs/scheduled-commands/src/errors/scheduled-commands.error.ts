/** Base class of every error this library throws; `instanceof ScheduledCommandsError` catches them all. */
export class ScheduledCommandsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
