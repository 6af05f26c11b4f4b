import { ApiProperty } from '@nestjs/swagger';

export class AccountDto {
  @ApiProperty({ example: '9b2f6c1e-3f5a-4e0b-9d51-0c1f9a7e2b44' })
  id!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  owner!: string;

  @ApiProperty({ example: 200 })
  balance!: number;

  @ApiProperty({
    example: 5,
    description: 'how many events the account has (as of the version or time asked); send it back as expectedVersion',
  })
  version!: number;

  @ApiProperty({ example: '2025-03-14T09:30:00.000Z', description: 'when its last event was recorded' })
  updatedAt!: string;
}

export class AccountHistoryEventDto {
  @ApiProperty({ example: 2 })
  version!: number;

  @ApiProperty({ enum: ['AccountOpened', 'MoneyDeposited', 'MoneyWithdrawn'], example: 'MoneyDeposited' })
  type!: string;

  @ApiProperty({
    example: { amount: 500 },
    description: 'AccountOpened: { accountId, owner }; MoneyDeposited / MoneyWithdrawn: { amount }',
  })
  data!: object;

  @ApiProperty({ example: '2025-03-14T09:00:00.000Z' })
  time!: string;

  @ApiProperty({
    example: {
      correlationId: '4a3c1b9e-0c65-4c3e-9bd6-3c0e2a8a9f10',
      causationId: 'c2b0f7a4-6a7e-4f7e-8c1a-2a4b5c6d7e8f',
    },
  })
  metadata!: object;
}

export class AccountHistoryDto {
  @ApiProperty({ example: '9b2f6c1e-3f5a-4e0b-9d51-0c1f9a7e2b44' })
  id!: string;

  @ApiProperty({ type: [AccountHistoryEventDto], description: 'oldest first' })
  events!: AccountHistoryEventDto[];
}

export class BalanceDto {
  @ApiProperty({ example: '9b2f6c1e-3f5a-4e0b-9d51-0c1f9a7e2b44' })
  accountId!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  owner!: string;

  @ApiProperty({ example: 200 })
  balance!: number;

  @ApiProperty({ example: 5, description: 'the account version this row reflects' })
  accountVersion!: number;

  @ApiProperty({ example: '2025-03-14T09:30:00.000Z' })
  updatedAt!: string;
}

export class RebuildResultDto {
  @ApiProperty({ example: 42 })
  accounts!: number;

  @ApiProperty({ example: 1337, description: 'events replayed' })
  events!: number;

  @ApiProperty({
    example: 0,
    description: 'live rows newer than what the rebuild read (applied while it ran), carried over',
  })
  keptFromLive!: number;

  @ApiProperty({ example: 0, description: 'rows of accounts with no stream in the event store, removed' })
  dropped!: number;

  @ApiProperty({ example: 35 })
  tookMs!: number;
}

export class ProjectionStatusDto {
  @ApiProperty({ example: 'ledger-balances' })
  group!: string;

  @ApiProperty({ example: 'accounts' })
  stream!: string;

  @ApiProperty({
    example: '1763993400123-0',
    nullable: true,
    description: "the checkpoint: the group's last delivered entry",
  })
  lastDeliveredId!: string | null;

  @ApiProperty({ example: 0 })
  pending!: number;

  @ApiProperty({ example: 0, nullable: true })
  lag!: number | null;

  @ApiProperty({ example: 42, description: 'rows in the read model' })
  accounts!: number;
}
