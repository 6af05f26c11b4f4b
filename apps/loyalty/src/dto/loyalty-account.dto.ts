import { ApiProperty } from '@nestjs/swagger';

/** One change of a balance. */
export class LedgerEntryDto {
  @ApiProperty({ example: 'ORD-7701' })
  orderId!: string;

  @ApiProperty({ example: 37, description: 'positive for a payment, negative for a refund' })
  points!: number;

  @ApiProperty({ enum: ['payment', 'refund'], example: 'payment' })
  reason!: 'payment' | 'refund';

  @ApiProperty({ example: '2025-01-02T10:00:01.000Z', description: 'when the payment or refund happened' })
  at!: string;
}

/** A user's loyalty balance: 1 point per whole currency unit paid, taken back on refund. */
export class LoyaltyAccountDto {
  @ApiProperty({ example: 'u-alice' })
  userId!: string;

  @ApiProperty({ example: 37 })
  points!: number;

  @ApiProperty({ type: [LedgerEntryDto], description: 'oldest first' })
  history!: LedgerEntryDto[];
}
