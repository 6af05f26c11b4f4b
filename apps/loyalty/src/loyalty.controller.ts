import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LoyaltyAccountDto } from './dto/loyalty-account.dto';
import { LoyaltyLedgerRepository } from './loyalty-ledger.repository';

@ApiTags('loyalty')
@Controller('loyalty')
export class LoyaltyController {
  constructor(private readonly ledger: LoyaltyLedgerRepository) {}

  @Get(':userId')
  @ApiOperation({
    summary:
      "A user's points (1 per whole currency unit paid, taken back on refund) and their history; 0 for an unknown user",
  })
  @ApiOkResponse({ type: LoyaltyAccountDto })
  account(@Param('userId') userId: string): Promise<LoyaltyAccountDto> {
    return this.ledger.account(userId);
  }
}
