/** A transaction on Redis Cluster whose keys live in several hash slots: refused before anything was sent. */
export class CrossSlotTransactionError extends Error {
  constructor(
    /** Each key of the transaction with its slot. */
    readonly keys: Array<{ key: string; slot: number }>,
  ) {
    const listed = keys.map((k) => `${k.key} (slot ${k.slot})`).join(', ');
    super(
      `a transaction on Redis Cluster must keep all its keys in one hash slot, and these are in ${new Set(keys.map((k) => k.slot)).size}: ${listed}. ` +
        "Nothing was written. Keep the state it writes under the bus's namespace (a ServiceStore key, or a key that starts with the namespace's hash tag), " +
        'or write it outside the transaction, idempotently by event id',
    );
    this.name = 'CrossSlotTransactionError';
  }
}
