import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ExecutionLog } from '../shared/execution-log.js';
import { ProcessPaymentCommand, type PaymentReceipt } from './process-payment.command.js';

/** Handles {@link ProcessPaymentCommand} (a stand-in for a payment provider call). */
@CommandHandler(ProcessPaymentCommand)
export class ProcessPaymentHandler implements ICommandHandler<ProcessPaymentCommand> {
  private readonly logger = new Logger(ProcessPaymentHandler.name);

  constructor(private readonly log: ExecutionLog) {}

  async execute(command: ProcessPaymentCommand): Promise<PaymentReceipt> {
    this.log.record('process-payment', `payment for ${command.orderId} (priority 10)`);
    this.logger.log(`Charging ${command.amount.toFixed(2)} for ${command.orderId}.`);
    return { orderId: command.orderId, amount: command.amount, paidAt: new Date() };
  }
}
