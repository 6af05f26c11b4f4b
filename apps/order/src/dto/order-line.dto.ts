import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';
import { MAX_LINE_QUANTITY } from '../order.constants';

/** One line of a new order: which product, how many. */
export class OrderLineDto {
  @ApiProperty({ example: 'SKU-MUG', description: 'a sku of the catalogue' })
  @IsString()
  @IsNotEmpty()
  sku!: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: MAX_LINE_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_QUANTITY)
  quantity!: number;
}
