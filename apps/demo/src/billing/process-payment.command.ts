import { Command } from '@nestjs/cqrs';
import { ScheduledCommand } from 'nestjs-scheduled-commands';

/** What {@link ProcessPaymentCommand} returns. */
export interface PaymentReceipt {
  readonly orderId: string;
  readonly amount: number;
  readonly paidAt: Date;
}

/** Charges an order: urgent work, scheduled with a high priority. */
@ScheduledCommand('process-payment')
export class ProcessPaymentCommand extends Command<PaymentReceipt> {
  constructor(
    readonly orderId: string,
    readonly amount: number,
  ) {
    super();
  }
}
