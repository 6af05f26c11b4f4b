import { Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MailQueue } from '../mail/mail-queue.service';
import { SentMailLog } from '../mail/sent-mail.log';
import { FailedMailJobDto } from './dto/failed-mail-job.dto';
import { LimitQuery } from './dto/limit.query';
import { ListMailsQuery } from './dto/list-mails.query';
import { SentMailDto } from './dto/sent-mail.dto';

@ApiTags('emails')
@Controller('emails')
export class EmailsController {
  constructor(
    private readonly log: SentMailLog,
    private readonly queue: MailQueue,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Mails sent, newest first (an order confirmation or cancellation each)' })
  @ApiOkResponse({ type: [SentMailDto] })
  list(@Query() query: ListMailsQuery): Promise<SentMailDto[]> {
    return this.log.list({ to: query.to, limit: query.limit });
  }

  // NOTE: declared before ':id' so that "failed" is not taken for a mail id.
  @Get('failed')
  @ApiOperation({ summary: 'Mail jobs that used up their attempts (or could not be rendered), newest first' })
  @ApiOkResponse({ type: [FailedMailJobDto] })
  failed(@Query() query: LimitQuery): Promise<FailedMailJobDto[]> {
    return this.queue.failed(query.limit);
  }

  @Post('failed/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a failed mail job again, with fresh attempts' })
  @ApiAcceptedResponse({ description: 'the job is back on the queue' })
  @ApiNotFoundResponse({ description: 'no failed job with that id' })
  async retry(@Param('id') id: string): Promise<void> {
    await this.queue.retryFailed(id);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One sent mail by id (mail.<orderId>.confirmed or mail.<orderId>.cancelled)' })
  @ApiOkResponse({ type: SentMailDto })
  @ApiNotFoundResponse({ description: 'no mail with that id was sent' })
  async get(@Param('id') id: string): Promise<SentMailDto> {
    const mail = await this.log.get(id);
    if (!mail) throw new NotFoundException(`no mail with id "${id}"`);
    return mail;
  }
}
