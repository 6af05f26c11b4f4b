import { InjectQueue } from '@nestjs/bullmq';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { ReplayRequest } from '@nest-streams/event-bus';
import { whileQueueAnswers } from '@app/platform';
import { GroupsService } from '../groups/groups.service';
import { assertRegisteredStream } from '../http/ops-params';
import { REPLAY_QUEUE, REPLAYS_KEPT } from '../ops.constants';
import { ReplayCancellations } from './replay-cancellations';
import { isReplayProgress, ReplayJobData, ReplayJobResult } from './replay-job';
import type { ReplayAcceptedDto, ReplayState, ReplayStatusDto, StartReplayDto } from './replay.dto';

type ReplayJob = Job<ReplayJobData, ReplayJobResult>;

/**
 * Replays as jobs on the `replays` queue: start, follow, list, cancel. The queue's connection waits
 * for Redis (BullMQ's workers need that), so each call is bounded: a 503 while Redis is down.
 */
@Injectable()
export class ReplayJobsService {
  constructor(
    @InjectQueue(REPLAY_QUEUE) private readonly queue: Queue<ReplayJobData, ReplayJobResult>,
    private readonly cancellations: ReplayCancellations,
    private readonly groups: GroupsService,
  ) {}

  async start(body: StartReplayDto): Promise<ReplayAcceptedDto> {
    return whileQueueAnswers(this.queue, () => this.enqueue(body));
  }

  private async enqueue(body: StartReplayDto): Promise<ReplayAcceptedDto> {
    const stream = assertRegisteredStream(body.stream);
    const { kind, group } = body.target;
    if (kind === 'position' && !body.dryRun) await this.groups.get(stream, group);
    if (kind === 'new-group' && (await this.groups.exists(stream, group))) {
      throw new ConflictException(
        `stream ${stream} has a consumer group "${group}" already: use target kind "position" or "handlers"`,
      );
    }
    const request: ReplayRequest = {
      stream,
      from: body.from,
      to: body.to,
      target: { kind, group },
      dryRun: body.dryRun ?? false,
      ratePerSec: body.ratePerSec,
      bypassDedupe: body.bypassDedupe ?? false,
    };
    const id = randomUUID();
    await this.queue.add(
      'replay',
      { request },
      {
        jobId: id,
        attempts: 1,
        removeOnComplete: { count: REPLAYS_KEPT },
        removeOnFail: { count: REPLAYS_KEPT },
      },
    );
    return { id, state: 'queued' };
  }

  async status(id: string): Promise<ReplayStatusDto> {
    return whileQueueAnswers(this.queue, async () => this.describe(await this.job(id)));
  }

  /** The most recent replays, newest first. */
  async list(count: number): Promise<ReplayStatusDto[]> {
    return whileQueueAnswers(this.queue, () => this.recent(count));
  }

  private async recent(count: number): Promise<ReplayStatusDto[]> {
    const jobs = (await this.queue.getJobs(
      ['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'],
      0,
      count - 1,
    )) as Array<ReplayJob | undefined>;
    const found = jobs.filter((job): job is ReplayJob => !!job).sort((a, b) => b.timestamp - a.timestamp);
    return Promise.all(found.slice(0, count).map((job) => this.describe(job)));
  }

  /** Asks the replay to stop; the worker running it sees it within ~CANCEL_POLL_MS. */
  async cancel(id: string): Promise<ReplayStatusDto> {
    return whileQueueAnswers(this.queue, () => this.requestCancel(id));
  }

  private async requestCancel(id: string): Promise<ReplayStatusDto> {
    const job = await this.job(id);
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      throw new ConflictException(`replay ${id} has finished already (${(await this.describe(job)).state})`);
    }
    await this.cancellations.request(id);
    return this.describe(job);
  }

  private async job(id: string): Promise<ReplayJob> {
    const job = (await this.queue.getJob(id)) as ReplayJob | undefined;
    if (!job)
      throw new NotFoundException(`no replay ${id} (replays are kept for the last ${REPLAYS_KEPT} of each outcome)`);
    return job;
  }

  private async describe(snapshot: ReplayJob): Promise<ReplayStatusDto> {
    const [jobState, cancelRequested] = await Promise.all([
      snapshot.getState(),
      this.cancellations.requested(snapshot.id ?? ''),
    ]);
    let job = snapshot;
    // NOTE: the job may finish between reading its hash and its state; its result and finishedOn are
    // then missing from the snapshot (a cancelled replay would read as completed): read it again.
    if ((jobState === 'completed' || jobState === 'failed') && !job.finishedOn) {
      job = ((await this.queue.getJob(snapshot.id ?? '')) as ReplayJob | undefined) ?? snapshot;
    }
    const result = job.returnvalue as ReplayJobResult | null | undefined;
    const progress = isReplayProgress(job.progress) ? job.progress : undefined;
    const done = result?.done ?? progress?.done ?? 0;
    const total = result?.total ?? progress?.total ?? 0;
    let state: ReplayState;
    if (jobState === 'completed') state = result?.cancelled ? 'cancelled' : 'completed';
    else if (jobState === 'failed') state = 'failed';
    else if (jobState === 'active') state = 'running';
    else state = cancelRequested ? 'cancelled' : 'queued';
    const startedAt = job.processedOn ?? null;
    const finishedAt = state === 'running' || state === 'queued' ? null : (job.finishedOn ?? null);
    // NOTE: measured from the first progress (the range is counted before it) to the last one.
    const elapsedSec = progress ? (progress.at - progress.since) / 1000 : 0;
    const ratePerSec = elapsedSec > 0 ? Math.round((progress!.done / elapsedSec) * 10) / 10 : 0;
    let etaSeconds: number | null = null;
    if (state !== 'running' && state !== 'queued') etaSeconds = 0;
    else if (state === 'running' && ratePerSec > 0 && total > 0)
      etaSeconds = Math.ceil(Math.max(0, total - done) / ratePerSec);
    const { request } = job.data;
    const status: ReplayStatusDto = {
      id: job.id ?? '',
      state,
      stream: request.stream,
      target: request.target,
      dryRun: request.dryRun ?? false,
      bypassDedupe: request.bypassDedupe ?? false,
      done,
      total,
      ratePerSec,
      etaSeconds,
      createdAt: new Date(job.timestamp).toISOString(),
      startedAt: startedAt ? new Date(startedAt).toISOString() : null,
      finishedAt: finishedAt ? new Date(finishedAt).toISOString() : null,
    };
    if (request.from !== undefined) status.from = request.from;
    if (request.to !== undefined) status.to = request.to;
    if (request.ratePerSec !== undefined) status.ratePerSecLimit = request.ratePerSec;
    if (state === 'failed') status.error = job.failedReason;
    return status;
  }
}
