import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FlowDeadLetter, FlowGroupState, FlowGroupStatus, FlowNode } from './flow-tree';

const STATES: FlowGroupState[] = ['handled', 'pending', 'dead-lettered', 'acknowledged', 'not-delivered-yet'];

export class FlowDeadLetterDto implements FlowDeadLetter {
  @ApiProperty({
    example: '1735689700000-0',
    description: "the dead letter's id in the stream's dead letters (p<k>/<ms>-<seq> on partitioned streams)",
  })
  id!: string;

  @ApiProperty({ example: 'handler-failed' })
  reason!: string;

  @ApiProperty({ example: 'card gateway timed out' })
  error!: string;

  @ApiProperty({ example: 'PaymentService.onOrderPlaced' })
  handler!: string;

  @ApiProperty({ example: 5, nullable: true, type: Number })
  attempts!: number | null;

  @ApiProperty({ example: '2025-01-01T00:00:05.000Z', nullable: true, type: String })
  deadLetteredAt!: string | null;
}

export class FlowGroupDto implements FlowGroupStatus {
  @ApiProperty({ example: 'payment' })
  group!: string;

  @ApiProperty({
    enum: STATES,
    example: 'handled',
    description:
      'handled: its handler succeeded (dedupe marker); pending: delivered, not acknowledged; dead-lettered: given up; ' +
      "acknowledged: at or before the group's position, without a marker (no handler for the type, dedupe off, the marker expired, or the group was created after it); " +
      "not-delivered-yet: after the group's position",
  })
  status!: FlowGroupState;

  @ApiProperty({
    example: '2025-01-01T00:00:00.120Z',
    nullable: true,
    type: String,
    description: 'when the handler succeeded (markers written before this was recorded: null)',
  })
  handledAt!: string | null;

  @ApiProperty({
    example: 1,
    nullable: true,
    type: Number,
    description: 'deliveries: of the successful one, so far (pending), or before it was given up',
  })
  attempts!: number | null;

  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: 'the consumer holding it (pending) or that gave it up',
  })
  consumer!: string | null;

  @ApiProperty({ example: null, nullable: true, type: Number, description: 'ms since it was last delivered (pending)' })
  idleMs!: number | null;

  @ApiPropertyOptional({
    type: FlowDeadLetterDto,
    description: "the group's latest dead letter of this event (kept after a redrive was handled)",
  })
  deadLetter?: FlowDeadLetterDto;
}

export class FlowNodeDto implements FlowNode {
  @ApiProperty({ example: 'orders' })
  stream!: string;

  @ApiProperty({ example: '1735689600000-0' })
  entryId!: string;

  @ApiPropertyOptional({
    example: 3,
    description: 'the partition of the stream whose key holds the entry (partitioned streams only)',
  })
  partition?: number;

  @ApiProperty({ example: '0f8fad5b-d9cb-469f-a165-70867728950e' })
  eventId!: string;

  @ApiProperty({ example: 'OrderPlaced', nullable: true, type: String })
  type!: string | null;

  @ApiProperty({ example: 2, nullable: true, type: Number })
  version!: number | null;

  @ApiProperty({ example: 'order-service', nullable: true, type: String })
  source!: string | null;

  @ApiProperty({ example: 'ORD-MB2K1X7Q-3FA91C', nullable: true, type: String })
  subject!: string | null;

  @ApiProperty({ example: '2025-01-01T00:00:00.000Z', nullable: true, type: String })
  time!: string | null;

  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: 'the event that caused this one (its parent here, when it is in the flow)',
  })
  causationId!: string | null;

  @ApiProperty({ type: [FlowGroupDto], description: 'every consumer group of the stream, by name' })
  groups!: FlowGroupDto[];

  @ApiProperty({ type: () => [FlowNodeDto], description: 'the events this one caused, in entry order' })
  children!: FlowNodeDto[];
}

export class FlowViewDto {
  @ApiProperty({ example: '0f8fad5b-d9cb-469f-a165-70867728950e' })
  correlationId!: string;

  @ApiProperty({
    enum: ['correlation-id', 'event-id', 'subject'],
    description: 'what the id in the path turned out to be',
  })
  resolvedFrom!: 'correlation-id' | 'event-id' | 'subject';

  @ApiProperty({ example: 7, description: 'events in the tree' })
  events!: number;

  @ApiProperty({
    example: false,
    description: `true when the flow has more entries than the view shows (the oldest are shown)`,
  })
  truncated!: boolean;

  @ApiProperty({ type: [String], example: [], description: 'for a subject: the other flows about it, newest first' })
  otherCorrelationIds!: string[];

  @ApiProperty({
    type: [FlowNodeDto],
    description: 'events whose cause is not in the flow, in entry order, each with the events it caused',
  })
  tree!: FlowNodeDto[];
}
