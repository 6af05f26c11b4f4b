/**
 * The partition of a partitioned group is no longer this instance's (its lease expired unrenewed,
 * or another instance holds it now): what this instance would have settled there (an
 * acknowledgement, a dead letter, a `context.commit()`) is refused, and the partition's new owner
 * handles the entry instead. A handler seeing it from `commit()` should let it propagate.
 */
export class FencedError extends Error {
  constructor(
    readonly group: string,
    readonly partition: number,
  ) {
    super(
      `partition ${partition} of group ${group} is no longer owned by this instance: the settle was refused (the partition's new owner handles the entry)`,
    );
    this.name = 'FencedError';
  }
}
