import { EventContract } from '@nest-streams/event-bus';
import { IsEmail, IsISO8601, IsNumber, IsString, Min } from 'class-validator';

/** The charge was declined; nothing was taken. */
@EventContract({
  type: 'PaymentFailed',
  version: 1,
  stream: 'payments',
  subjectField: 'orderId',
  producedBy: ['payment-service'],
})
export class PaymentFailed {
  @IsString()
  orderId!: string;

  @IsString()
  userId!: string;

  @IsEmail()
  userEmail!: string;

  @IsNumber()
  @Min(0)
  amount!: number;

  @IsString()
  currency!: string;

  @IsString()
  reason!: string;

  @IsISO8601()
  failedAt!: string;

  constructor(props?: PaymentFailed) {
    if (props) Object.assign(this, props);
  }
}
