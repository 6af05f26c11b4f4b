import type { StreamEntry } from './ops-types';

/** An entry decoded: its envelope (every field but the payload) and its payload, as indented JSON. */
export function EntryDetails({ entry }: { entry: StreamEntry }) {
  const { data, ...envelope } = entry;
  return (
    <div class="entry-details" data-details={entry.id}>
      <div>
        <h4>Envelope</h4>
        <pre data-field="envelope">{JSON.stringify(envelope, null, 2)}</pre>
      </div>
      <div>
        <h4>Payload</h4>
        <pre data-field="payload">{typeof data === 'string' ? data : JSON.stringify(data, null, 2)}</pre>
      </div>
    </div>
  );
}
