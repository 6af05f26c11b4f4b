import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { EventBusModule } from '@nest-streams/event-bus';
import { ServiceStoreModule } from '@app/platform';
import { EmailConfig } from './email.config';
import { EMAIL_QUEUE, EMAIL_SERVICE } from './email.constants';
import { EmailsController } from './http/emails.controller';
import { MailQueue } from './mail/mail-queue.service';
import { MailProcessor } from './mail/mail.processor';
import { OrderMailSubscriber } from './mail/order-mail.subscriber';
import { SentMailLog } from './mail/sent-mail.log';
import { mailTransportProvider } from './transport/mail-transport.provider';

/**
 * The email service: order outcomes (OrderConfirmed, OrderCancelled) become jobs on the
 * `email` queue, whose worker renders and sends them and keeps a sent log (`GET /emails`).
 * Needs `PlatformModule.forRoot()` in the root module (config, bus, BullMQ connection).
 */
@Module({
  imports: [
    EventBusModule.forFeature({ group: EMAIL_SERVICE, source: `${EMAIL_SERVICE}-service` }),
    ServiceStoreModule.forService(EMAIL_SERVICE),
    BullModule.registerQueue({ name: EMAIL_QUEUE }),
  ],
  controllers: [EmailsController],
  providers: [EmailConfig, SentMailLog, MailQueue, OrderMailSubscriber, MailProcessor, mailTransportProvider],
})
export class EmailModule {}
