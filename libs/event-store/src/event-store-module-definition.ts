import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EventStoreModuleOptions } from './interfaces/event-store-options.interface';

export const {
  ConfigurableModuleClass: ConfigurableEventStoreModule,
  MODULE_OPTIONS_TOKEN: EVENT_STORE_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<EventStoreModuleOptions>({ moduleName: 'EventStore' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
