import { EventContract } from '@nest-streams/event-bus';
import { IsISO8601, IsInt, IsNotEmpty, IsNumber, IsString, Min } from 'class-validator';

/** A ledger account was opened, with a balance of 0. */
@EventContract({ type: 'AccountOpened', version: 1, stream: 'accounts', subjectField: 'accountId' })
export class AccountOpened {
  @IsString()
  @IsNotEmpty()
  accountId!: string;

  @IsString()
  @IsNotEmpty()
  owner!: string;

  /** The balance after the fact (always 0 when opened). */
  @IsNumber()
  @Min(0)
  balance!: number;

  /** The account's version (its event count) after this fact: 1. Orders the facts of one account. */
  @IsInt()
  @Min(1)
  accountVersion!: number;

  /** When the ledger recorded it. */
  @IsISO8601()
  at!: string;

  constructor(props?: AccountOpened) {
    if (props) Object.assign(this, props);
  }
}
