import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StockLevelDto } from './dto/stock-level.dto';
import { StockRepository } from './stock/stock.repository';

@ApiTags('inventory')
@Controller('inventory')
export class InventoryController {
  constructor(private readonly stock: StockRepository) {}

  @Get()
  @ApiOperation({ summary: 'Stock of every sku: available and reserved units' })
  @ApiOkResponse({ type: [StockLevelDto] })
  list(): Promise<StockLevelDto[]> {
    return this.stock.list();
  }

  @Get(':sku')
  @ApiOperation({ summary: 'Stock of one sku' })
  @ApiOkResponse({ type: StockLevelDto })
  @ApiNotFoundResponse({ description: 'the sku is not in the inventory' })
  async get(@Param('sku') sku: string): Promise<StockLevelDto> {
    const level = await this.stock.get(sku);
    if (!level) throw new NotFoundException(`sku "${sku}" is not in the inventory`);
    return level;
  }
}
