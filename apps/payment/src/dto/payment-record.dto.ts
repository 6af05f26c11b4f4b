import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PAYMENT_STATUSES, PaymentStatus } from '../payment-record';

/** An order's payment as the payment service recorded it. */
export class PaymentRecordDto {
  @ApiProperty({ example: 'ORD-7701' })
  orderId!: string;

  @ApiProperty({ example: 'u-alice' })
  userId!: string;

  @ApiProperty({ example: 'alice@example.com' })
  userEmail!: string;

  @ApiProperty({
    enum: PAYMENT_STATUSES,
    example: 'charged',
    description: '`pending`/`refunding` while the gateway call is in flight',
  })
  status!: PaymentStatus;

  @ApiProperty({ example: 37.4, description: 'the order total, in `currency`' })
  amount!: number;

  @ApiProperty({ example: 'EUR' })
  currency!: string;

  @ApiPropertyOptional({ example: 'pay_3f1c2a9b8d7e6f50', description: 'the gateway payment id, once charged' })
  paymentId?: string;

  @ApiPropertyOptional({ example: 'card-declined', description: 'why the gateway declined' })
  reason?: string;

  @ApiPropertyOptional({ example: '2025-01-02T10:00:01.000Z' })
  chargedAt?: string;

  @ApiPropertyOptional({ example: '2025-01-02T10:00:01.000Z' })
  failedAt?: string;

  @ApiPropertyOptional({ example: '2025-01-02T11:30:00.000Z' })
  refundedAt?: string;
}
