import { EventContract } from '@nest-streams/event-bus';
import { IsEmail, IsISO8601, IsNumber, IsString, Min } from 'class-validator';

/** A charged order was cancelled and its amount given back. */
@EventContract({
  type: 'PaymentRefunded',
  version: 1,
  stream: 'payments',
  subjectField: 'orderId',
  producedBy: ['payment-service'],
})
export class PaymentRefunded {
  @IsString()
  orderId!: string;

  @IsString()
  userId!: string;

  @IsEmail()
  userEmail!: string;

  @IsString()
  paymentId!: string;

  @IsNumber()
  @Min(0)
  amount!: number;

  @IsString()
  currency!: string;

  @IsISO8601()
  refundedAt!: string;

  constructor(props?: PaymentRefunded) {
    if (props) Object.assign(this, props);
  }
}
