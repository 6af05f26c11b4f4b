import type { ComponentChildren } from 'preact';

interface Props {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}

/** A modal confirmation: nothing happens until its button is pressed. */
export function Confirm({ title, children, confirmLabel, busy, onConfirm, onCancel }: Props) {
  return (
    <div class="backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title">
        <h2 id="confirm-title">{title}</h2>
        <div>{children}</div>
        <div class="actions">
          <button type="button" class="secondary" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button type="button" class="danger" onClick={onConfirm} disabled={busy}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
