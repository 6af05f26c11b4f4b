import { useEffect, useState } from 'preact/hooks';
import { call } from './api';
import { errorText, streamPath, timeOf } from './format';
import type { EntryPage, StreamEntry } from './ops-types';
import { EntryDetails } from './entry-details';

interface Props {
  stream: string;
}

type Filters = Record<'type' | 'subject' | 'from' | 'to' | 'text', string> & {
  order: 'newest' | 'oldest';
  count: string;
};

const NO_FILTERS: Filters = { type: '', subject: '', from: '', to: '', text: '', order: 'newest', count: '20' };

const FIELDS: Array<{ name: keyof Filters; label: string; placeholder: string }> = [
  { name: 'type', label: 'Type', placeholder: 'OrderPlaced' },
  { name: 'subject', label: 'Subject', placeholder: 'ORD-7701' },
  { name: 'from', label: 'From', placeholder: '2025-01-31T12:00:00Z or an id' },
  { name: 'to', label: 'To', placeholder: '2025-01-31T13:00:00Z or an id' },
  { name: 'text', label: 'Text in the payload', placeholder: 'SKU-MUG' },
];

/**
 * The entries of a stream, a page at a time, newest or oldest first, filtered by type, subject,
 * time range and text in the payload (`GET /ops/streams/:stream/entries`). Next follows the
 * server's cursor; Previous goes back to the cursors already seen. A row opens the decoded
 * envelope and payload.
 */
export function Messages({ stream }: Props) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  /** The cursor of each page so far: [undefined] on the first page. */
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState<EntryPage>();
  const [error, setError] = useState<string>();
  const [open, setOpen] = useState<string>();
  const [types, setTypes] = useState<string[]>([]);
  const cursor = cursors.at(-1);

  useEffect(() => {
    // The event types of this stream, offered as the type filter's suggestions.
    call<Array<{ type: string; stream: string }>>('GET', '/events/types').then(
      (all) => setTypes([...new Set(all.filter((t) => t.stream === stream).map((t) => t.type))]),
      () => setTypes([]),
    );
  }, [stream]);

  useEffect(() => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(applied)) if (value.trim()) query.set(name, value.trim());
    if (cursor) query.set('cursor', cursor);
    setError(undefined);
    call<EntryPage>('GET', `${streamPath(stream)}/entries?${query.toString()}`).then(setPage, (caught: unknown) => {
      setPage(undefined);
      setError(errorText(caught));
    });
  }, [stream, applied, cursor]);

  const field = (name: keyof Filters) => (event: Event) =>
    setFilters({ ...filters, [name]: (event.currentTarget as HTMLInputElement).value });

  return (
    <section class="messages" aria-labelledby="messages-title">
      <h3 id="messages-title">Messages</h3>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(filters);
          setCursors([undefined]);
        }}
      >
        {FIELDS.map(({ name, label, placeholder }) => (
          <div key={name}>
            <label for={`filter-${name}`}>{label}</label>
            <input
              id={`filter-${name}`}
              value={filters[name]}
              placeholder={placeholder}
              list={name === 'type' ? 'stream-types' : undefined}
              onInput={field(name)}
            />
          </div>
        ))}
        <datalist id="stream-types">
          {types.map((type) => (
            <option key={type} value={type} />
          ))}
        </datalist>
        <div>
          <label for="filter-order">Order</label>
          <select id="filter-order" value={filters.order} onChange={field('order')}>
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
          </select>
        </div>
        <div>
          <label for="filter-count">Per page</label>
          <select id="filter-count" value={filters.count} onChange={field('count')}>
            {['10', '20', '50', '100'].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div class="filter-actions">
          <button type="submit">Apply</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setFilters(NO_FILTERS);
              setApplied(NO_FILTERS);
              setCursors([undefined]);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page && (
        <>
          {page.entries.length === 0 ? (
            <p class="empty">No entries{cursors.length > 1 ? ' on this page' : ''}.</p>
          ) : (
            <table class="groups entries">
              <caption>Page {cursors.length}</caption>
              <thead>
                <tr>
                  <th scope="col">Entry</th>
                  <th scope="col">Time</th>
                  <th scope="col">Type</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Source</th>
                </tr>
              </thead>
              <tbody>
                {page.entries.map((entry) => (
                  <EntryRow
                    key={entry.id}
                    entry={entry}
                    open={open === entry.id}
                    onToggle={() => setOpen(open === entry.id ? undefined : entry.id)}
                  />
                ))}
              </tbody>
            </table>
          )}
          <div class="row-actions pager">
            <button
              type="button"
              class="secondary"
              disabled={cursors.length === 1}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              Previous
            </button>
            <button
              type="button"
              class="secondary"
              disabled={page.nextCursor === null}
              onClick={() => setCursors([...cursors, page.nextCursor ?? undefined])}
            >
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}

/** An entry as a row; its id opens the decoded envelope and payload beneath. */
export function EntryRow({ entry, open, onToggle }: { entry: StreamEntry; open: boolean; onToggle(): void }) {
  return (
    <>
      <tr data-entry={entry.id}>
        <th scope="row">
          <button type="button" class="link" aria-expanded={open} onClick={onToggle}>
            <code>{entry.id}</code>
          </button>
        </th>
        <td>{timeOf(entry.time)}</td>
        <td data-field="type">{entry.type ?? '–'}</td>
        <td data-field="subject">{entry.subject ?? '–'}</td>
        <td>{entry.source ?? '–'}</td>
      </tr>
      {open && (
        <tr class="details">
          <td colSpan={5}>
            <EntryDetails entry={entry} />
          </td>
        </tr>
      )}
    </>
  );
}
