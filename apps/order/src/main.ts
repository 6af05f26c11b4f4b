import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, runMain } from '@app/platform';
import { ORDER_SOURCE } from './order.constants';
import { OrderModule } from './order.module';

@Module({ imports: [PlatformModule.forRoot({ source: ORDER_SOURCE }), OrderModule] })
class OrderServiceRoot {}

runMain(() =>
  createPlatformApp(OrderServiceRoot, {
    title: 'Order service',
    description:
      'Places orders, publishes OrderPlaced and runs the order saga (inventory + payment -> confirmed or cancelled)',
  }),
);
