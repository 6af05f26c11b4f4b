import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, Session, sessionApi } from './api';

interface Props {
  notice?: string;
  onSignedIn(session: Session): void;
}

/**
 * Exchanges an API key for a session. The key goes out once in the body of a POST and is then
 * forgotten: it is in no URL, no storage and no cookie.
 */
export function SignIn({ notice, onSignedIn }: Props) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);

  const submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('apiKey') as HTMLInputElement;
    const key = input.value.trim();
    setBusy(true);
    setError(undefined);
    try {
      const session = await sessionApi.signIn(key);
      input.value = '';
      onSignedIn(session);
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'Unknown API key.'
          : caught instanceof Error
            ? caught.message
            : String(caught),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form method="post" action="#" onSubmit={(e) => void submit(e as SubmitEvent)}>
        <h1>Operations console</h1>
        {notice && <p class="notice">{notice}</p>}
        <label for="api-key">API key</label>
        <input
          ref={field}
          id="api-key"
          name="apiKey"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          minLength={16}
          maxLength={256}
        />
        <p class="hint">A reader key shows everything; an operator key may also act.</p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
