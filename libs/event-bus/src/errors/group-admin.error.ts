/** Why an operation on a consumer group could not be done; nothing was changed. */
export type GroupAdminProblem =
  'no-group' | 'group-exists' | 'not-pending' | 'trimmed' | 'no-consumer' | 'consumer-busy';

/** An operator's action on a group that does not apply to its current state (GroupAdminService). */
export class GroupAdminError extends Error {
  constructor(
    readonly problem: GroupAdminProblem,
    message: string,
  ) {
    super(message);
    this.name = 'GroupAdminError';
  }
}
