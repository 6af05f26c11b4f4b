import { Module } from '@nestjs/common';
import { ServiceStoreModule } from '@app/platform';
import { CONSOLE_SERVICE } from '../console.constants';
import { CONSOLE_SETTINGS, readConsoleSettings } from '../console-settings';
import { ConsoleSessions } from './console-sessions';

/** The console's settings and its sessions in Redis: what the `/ops` guards need to accept a session cookie. */
@Module({
  imports: [ServiceStoreModule.forService(CONSOLE_SERVICE)],
  providers: [{ provide: CONSOLE_SETTINGS, useFactory: () => readConsoleSettings() }, ConsoleSessions],
  exports: [CONSOLE_SETTINGS, ConsoleSessions],
})
export class ConsoleSessionsModule {}
