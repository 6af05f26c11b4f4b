import { Module } from '@nestjs/common';
import { OpsModule } from '../ops/ops.module';
import { ConsoleAssets } from './assets/console-assets';
import { ConsoleAssetsController } from './assets/console-assets.controller';
import { LiveController } from './live/live.controller';
import { OverviewSampler } from './live/overview-sampler';
import { StreamTail } from './live/stream-tail';
import { ConsoleSessionGuard } from './sessions/console-session.guard';
import { ConsoleSessionsModule } from './sessions/console-sessions.module';
import { SessionController } from './sessions/session.controller';

/**
 * The operations console at `/console`: the built front end (`npm run build`), sign-in to a
 * session in Redis (`/console/api/session`) and the live stream with its tail (`/console/api/live`). Every
 * other call of the console goes to `/ops`, which accepts the session cookie.
 */
@Module({
  imports: [OpsModule, ConsoleSessionsModule],
  controllers: [ConsoleAssetsController, SessionController, LiveController],
  providers: [ConsoleAssets, OverviewSampler, StreamTail, ConsoleSessionGuard],
})
export class ConsoleModule {}
