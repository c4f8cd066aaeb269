/**
 * The one source of application time for the library (the PostgreSQL store uses the database clock
 * for what is due). Replace it in tests to drive time: provide `{ provide: Clock, useValue: myClock }`
 * or pass `clock` in the module options.
 */
export abstract class Clock {
  /** The current time. */
  abstract now(): Date;
}

/** The wall clock. */
export class SystemClock extends Clock {
  override now(): Date {
    return new Date();
  }
}
