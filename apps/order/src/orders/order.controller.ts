import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ListOrdersQuery } from '../dto/list-orders.query';
import { OrderPageDto } from '../dto/order-page.dto';
import { OrderViewDto } from '../dto/order-view.dto';
import { PlaceOrderDto } from '../dto/place-order.dto';
import { OrderPlacementService } from './order-placement.service';
import { OrderRepository } from './order.repository';
import { toOrderSummary, toOrderView } from './order-view.mapper';

@ApiTags('orders')
@Controller('orders')
export class OrderController {
  constructor(
    private readonly placement: OrderPlacementService,
    private readonly orders: OrderRepository,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Place an order: stored as Pending, then OrderPlaced is published' })
  @ApiCreatedResponse({ type: OrderViewDto })
  @ApiBadRequestResponse({
    description: 'invalid body or unknown sku; the message names the field (`items.1.sku: unknown sku "SKU-X"`)',
  })
  @ApiServiceUnavailableResponse({
    description: 'Redis unavailable: nothing placed, or (the message says which) stored as Pending but not published',
  })
  place(@Body() body: PlaceOrderDto): Promise<OrderViewDto> {
    return this.placement.place(body);
  }

  @Get()
  @ApiOperation({ summary: 'The most recent orders, newest first' })
  @ApiOkResponse({ type: OrderPageDto })
  async list(@Query() query: ListOrdersQuery): Promise<OrderPageDto> {
    const { orders, total } = await this.orders.page(query.offset, query.limit);
    return { orders: orders.map(toOrderSummary), total, limit: query.limit, offset: query.offset };
  }

  @Get(':id')
  @ApiOperation({ summary: 'An order: status, items, total, cancellation reason and the events that moved it' })
  @ApiOkResponse({ type: OrderViewDto })
  @ApiNotFoundResponse({ description: 'no order with this id' })
  async get(@Param('id') id: string): Promise<OrderViewDto> {
    const found = await this.orders.findWithHistory(id);
    if (!found) throw new NotFoundException(`order "${id}" does not exist`);
    return toOrderView(found.order, found.history);
  }
}
