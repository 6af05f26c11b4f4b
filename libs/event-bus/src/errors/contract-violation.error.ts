/** A stream entry that breaks docs/contract.md section 1; the consumer dead-letters it with `reason`. */
export class ContractViolationError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContractViolationError';
  }
}
