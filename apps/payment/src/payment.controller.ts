import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PaymentRecordDto } from './dto/payment-record.dto';
import { PaymentRecordRepository } from './payment-record.repository';

@ApiTags('payments')
@Controller('payments')
export class PaymentController {
  constructor(private readonly records: PaymentRecordRepository) {}

  @Get(':orderId')
  @ApiOperation({
    summary: "An order's payment: charged, declined or refunded, with the gateway payment id and amount",
  })
  @ApiOkResponse({ type: PaymentRecordDto })
  @ApiNotFoundResponse({ description: 'The payment service has not seen this order' })
  async find(@Param('orderId') orderId: string): Promise<PaymentRecordDto> {
    const record = await this.records.find(orderId);
    if (!record) throw new NotFoundException(`no payment for order ${orderId}`);
    return record;
  }
}
