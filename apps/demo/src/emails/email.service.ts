import { Injectable, Logger } from '@nestjs/common';

/** An email the fake {@link EmailService} "sent". */
export interface SentEmail {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
  readonly sentAt: Date;
}

/** Stand-in for a real email provider: logs each email and keeps it in memory. */
@Injectable()
export class EmailService {
  private readonly logger = new Logger(EmailService.name);
  private readonly outbox: SentEmail[] = [];

  /** "Sends" an email: logs it and adds it to {@link sent}. */
  async send(to: string, subject: string, body: string): Promise<void> {
    this.outbox.push({ to, subject, body, sentAt: new Date() });
    this.logger.log(`Email to ${to}: "${subject}"`);
  }

  /** Emails sent by this process, oldest first. */
  get sent(): readonly SentEmail[] {
    return this.outbox;
  }
}
