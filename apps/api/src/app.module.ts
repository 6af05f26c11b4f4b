import { Module } from '@nestjs/common';
import { PlatformModule } from '@app/platform';
import { EventTypesController } from './event-types.controller';

/** The platform in one process: the bus, and (as their issues land) every service and the operations API. */
@Module({
  imports: [PlatformModule.forRoot({ source: 'api' })],
  controllers: [EventTypesController],
})
export class AppModule {}
