/** A transaction on Redis Cluster whose keys live in several hash slots: refused before anything was sent. */
export class CrossSlotTransactionError extends Error {
  constructor(
    /** Each key of the transaction with its slot. */
    readonly keys: Array<{ key: string; slot: number }>,
  ) {
    const listed = keys.map((k) => `${k.key} (slot ${k.slot})`).join(', ');
    super(
      `a transaction on Redis Cluster must keep all its keys in one hash slot, and these are in ${new Set(keys.map((k) => k.slot)).size}: ${listed}. ` +
        "Nothing was written. Keep the state it writes in one slot: next to its subject's events (a key with the partition's hash tag, " +
        "e.g. ServiceStore.keyFor(subject)), or under the bus's namespace tag (a ServiceStore key; commit() then writes it before it acknowledges), " +
        'or write it outside the transaction, idempotently by event id',
    );
    this.name = 'CrossSlotTransactionError';
  }
}
