import { ApiProperty } from '@nestjs/swagger';

/** Stock of one sku. */
export class StockLevelDto {
  @ApiProperty({ example: 'SKU-MUG' })
  sku!: string;

  @ApiProperty({ example: 'Enamel mug' })
  name!: string;

  @ApiProperty({ example: 97, description: 'units that can still be reserved' })
  available!: number;

  @ApiProperty({ example: 3, description: 'units set aside for orders not yet cancelled' })
  reserved!: number;
}
