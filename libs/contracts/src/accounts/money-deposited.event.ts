import { EventContract } from '@nest-streams/event-bus';
import { IsISO8601, IsInt, IsNotEmpty, IsNumber, IsPositive, IsString, Min } from 'class-validator';

/** Money was paid into a ledger account. Fat: carries the owner and the balance after it. */
@EventContract({ type: 'MoneyDeposited', version: 1, stream: 'accounts', subjectField: 'accountId' })
export class MoneyDeposited {
  @IsString()
  @IsNotEmpty()
  accountId!: string;

  @IsString()
  @IsNotEmpty()
  owner!: string;

  @IsNumber()
  @IsPositive()
  amount!: number;

  /** The balance after the fact. */
  @IsNumber()
  @Min(0)
  balance!: number;

  /** The account's version (its event count) after this fact. Orders the facts of one account. */
  @IsInt()
  @Min(2)
  accountVersion!: number;

  /** When the ledger recorded it. */
  @IsISO8601()
  at!: string;

  constructor(props?: MoneyDeposited) {
    if (props) Object.assign(this, props);
  }
}
