import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EventBusModuleOptions } from './interfaces/event-bus-options.interface';

export const {
  ConfigurableModuleClass: ConfigurableEventBusModule,
  MODULE_OPTIONS_TOKEN: EVENT_BUS_MODULE_OPTIONS,
  OPTIONS_TYPE: EVENT_BUS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: EVENT_BUS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EventBusModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
