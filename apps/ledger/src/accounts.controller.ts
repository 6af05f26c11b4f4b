import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  UseFilters,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '@nest-streams/event-store';
import { AccountsService } from './accounts.service';
import { BalancesCheckpoint } from './balances/balances.checkpoint';
import { BalancesReadModel } from './balances/balances.read-model';
import { BalancesRebuilder } from './balances/balances.rebuilder';
import { AccountDto, AccountHistoryDto, BalanceDto, ProjectionStatusDto, RebuildResultDto } from './dto/account.dto';
import { AsOfQuery } from './dto/as-of.query';
import { ConcurrencyConflictDto, InsufficientFundsDto, LedgerErrorDto } from './dto/ledger-errors.dto';
import { MoneyDto } from './dto/money.dto';
import { OpenAccountDto } from './dto/open-account.dto';
import { LedgerErrorFilter } from './ledger-error.filter';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,200}$/;

const correlationHeader = ApiHeader({
  name: 'x-correlation-id',
  required: false,
  description: "stored in the events' metadata and carried by the integration events (default: a new UUID)",
});

@ApiTags('ledger')
@Controller('accounts')
@UseFilters(LedgerErrorFilter)
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly balances: BalancesReadModel,
    private readonly rebuilder: BalancesRebuilder,
    private readonly checkpoint: BalancesCheckpoint,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Open an account (balance 0)' })
  @correlationHeader
  @ApiCreatedResponse({ type: AccountDto, description: 'the new account; `id` names it in every other route' })
  @ApiBadRequestResponse({ description: 'owner missing or empty' })
  open(@Body() dto: OpenAccountDto, @Headers('x-correlation-id') correlationId?: string): Promise<AccountDto> {
    return this.accounts.open(dto.owner, metadata(correlationId));
  }

  @Get()
  @ApiOperation({
    summary:
      'Every account and its balance: the balances projection (read model fed by the ledger-balances consumer group)',
  })
  @ApiOkResponse({
    type: [BalanceDto],
    description: 'by account id; eventually consistent (a few ms behind the commands)',
  })
  list(): Promise<BalanceDto[]> {
    return this.balances.list();
  }

  @Get('projection/status')
  @ApiOperation({
    summary: "The balances projection's checkpoint (its consumer group's position in the accounts stream)",
  })
  @ApiOkResponse({ type: ProjectionStatusDto })
  status(): Promise<ProjectionStatusDto> {
    return this.checkpoint.status();
  }

  @Post('projection/rebuild')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Rebuild the balances projection from scratch by replaying every account stream, then swap it in atomically',
  })
  @ApiOkResponse({ type: RebuildResultDto })
  rebuild(): Promise<RebuildResultDto> {
    return this.rebuilder.rebuild();
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'An account now, or as of a version (?asOfVersion=3) or a time (?asOfTime=2025-03-14T09:30:00Z), from its events',
  })
  @ApiOkResponse({ type: AccountDto })
  @ApiNotFoundResponse({
    type: LedgerErrorDto,
    description: 'no such account, or it did not exist yet at that version or time',
  })
  @ApiBadRequestResponse({ description: 'both asOfVersion and asOfTime, or a bad value' })
  get(@Param('id') id: string, @Query() query: AsOfQuery): Promise<AccountDto> {
    if (query.asOfVersion !== undefined && query.asOfTime !== undefined) {
      throw new BadRequestException('give asOfVersion or asOfTime, not both');
    }
    return this.accounts.get(id, query);
  }

  @Get(':id/history')
  @ApiOperation({ summary: 'Every event of an account with its version and time, oldest first' })
  @ApiOkResponse({ type: AccountHistoryDto })
  @ApiNotFoundResponse({ type: LedgerErrorDto })
  async history(@Param('id') id: string): Promise<AccountHistoryDto> {
    return { id, events: await this.accounts.history(id) };
  }

  @Post(':id/deposits')
  @ApiOperation({ summary: 'Deposit money' })
  @correlationHeader
  @ApiCreatedResponse({ type: AccountDto, description: 'the account after the deposit' })
  @ApiNotFoundResponse({ type: LedgerErrorDto })
  @ApiConflictResponse({
    type: ConcurrencyConflictDto,
    description:
      'expectedVersion given and the account has changed since (or a conflict outlasted the retries): reload and retry',
  })
  @ApiBadRequestResponse({ description: 'amount not positive, more than 2 decimals, or too large' })
  deposit(
    @Param('id') id: string,
    @Body() dto: MoneyDto,
    @Headers('x-correlation-id') correlationId?: string,
  ): Promise<AccountDto> {
    return this.accounts.deposit(id, dto.amount, dto.expectedVersion, metadata(correlationId));
  }

  @Post(':id/withdrawals')
  @ApiOperation({ summary: 'Withdraw money; never below a balance of 0' })
  @correlationHeader
  @ApiCreatedResponse({ type: AccountDto, description: 'the account after the withdrawal' })
  @ApiUnprocessableEntityResponse({
    type: InsufficientFundsDto,
    description: 'the withdrawal would overdraw the account; nothing was withdrawn',
  })
  @ApiNotFoundResponse({ type: LedgerErrorDto })
  @ApiConflictResponse({
    type: ConcurrencyConflictDto,
    description:
      'expectedVersion given and the account has changed since (or a conflict outlasted the retries): reload and retry',
  })
  @ApiBadRequestResponse({ description: 'amount not positive, more than 2 decimals, or too large' })
  withdraw(
    @Param('id') id: string,
    @Body() dto: MoneyDto,
    @Headers('x-correlation-id') correlationId?: string,
  ): Promise<AccountDto> {
    return this.accounts.withdraw(id, dto.amount, dto.expectedVersion, metadata(correlationId));
  }
}

/** The metadata of the events one request appends. */
function metadata(correlationId: string | undefined): EventMetadata {
  return {
    correlationId: correlationId && CORRELATION_ID.test(correlationId) ? correlationId : randomUUID(),
    causationId: randomUUID(),
  };
}
