import { Module } from '@nestjs/common';
import { createPlatformApp, PlatformModule, runMain } from '@app/platform';
import { EmailModule } from './email.module';

@Module({ imports: [PlatformModule.forRoot({ source: 'email-service' }), EmailModule] })
class EmailRootModule {}

runMain(() =>
  createPlatformApp(EmailRootModule, {
    title: 'Email service',
    description:
      'Mails customers the outcome of their orders (OrderConfirmed, OrderCancelled) through a BullMQ queue with retries',
  }),
);
