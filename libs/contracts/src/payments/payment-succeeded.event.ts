import { EventContract } from '@nest-streams/event-bus';
import { IsEmail, IsISO8601, IsNumber, IsString, Min } from 'class-validator';

/** The order's total was charged. */
@EventContract({
  type: 'PaymentSucceeded',
  version: 1,
  stream: 'payments',
  subjectField: 'orderId',
  producedBy: ['payment-service'],
})
export class PaymentSucceeded {
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
  chargedAt!: string;

  constructor(props?: PaymentSucceeded) {
    if (props) Object.assign(this, props);
  }
}
