import { EventContract } from '@nest-streams/event-bus';
import { IsInt, IsString, Min } from 'class-validator';

/**
 * The event of the partition fault tests: step `seq` (1, 2, 3, ... in publish order) of
 * `subject`. The subject decides the partition (`CLUSTER KEYSLOT(subject) mod P`).
 */
@EventContract({ type: 'PartitionStep', stream: 'steps', subjectField: 'subject' })
export class PartitionStep {
  @IsString()
  subject!: string;

  @IsInt()
  @Min(1)
  seq!: number;

  constructor(props?: PartitionStep) {
    if (props) Object.assign(this, props);
  }
}

/** The stream the steps go to. */
export const STEP_STREAM = 'steps';
