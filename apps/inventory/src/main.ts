import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, runMain } from '@app/platform';
import { INVENTORY_SOURCE } from './inventory.constants';
import { InventoryModule } from './inventory.module';

@Module({ imports: [PlatformModule.forRoot({ source: INVENTORY_SOURCE }), InventoryModule] })
class InventoryServiceRoot {}

runMain(() =>
  createPlatformApp(InventoryServiceRoot, {
    title: 'Inventory service',
    description:
      'Keeps stock; reserves every line of an OrderPlaced or none, and releases what a cancelled order had reserved',
  }),
);
