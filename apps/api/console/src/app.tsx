import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, onSignedOut, Session, sessionApi } from './api';
import { Overview } from './overview';
import { useRoute } from './router';
import { SignIn } from './sign-in';
import { StreamPage } from './stream';

type Auth = { state: 'checking' } | { state: 'signed-out'; notice?: string } | { state: 'signed-in'; session: Session };

/** The console: sign-in, then the screens under a header with the role and sign-out. */
export function App() {
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  const route = useRoute();

  const ended = useCallback(
    () => setAuth({ state: 'signed-out', notice: 'Your session has ended: sign in again.' }),
    [],
  );

  useEffect(() => {
    sessionApi.current().then(
      (session) => setAuth(session.signedIn ? { state: 'signed-in', session } : { state: 'signed-out' }),
      () => setAuth({ state: 'signed-out', notice: 'The console could not reach the server: reload to try again.' }),
    );
    return onSignedOut(ended);
  }, [ended]);

  if (auth.state === 'checking') return <p class="loading">Loading…</p>;
  if (auth.state === 'signed-out')
    return <SignIn notice={auth.notice} onSignedIn={(session) => setAuth({ state: 'signed-in', session })} />;

  const signOut = async (): Promise<void> => {
    try {
      await sessionApi.signOut();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
    setAuth({ state: 'signed-out', notice: 'Signed out.' });
  };

  const { role } = auth.session;
  return (
    <div class="shell">
      <header class="top">
        <h1>Operations console</h1>
        <nav aria-label="Screens">
          <a href="#/" aria-current={route.screen === 'overview' ? 'page' : undefined}>
            Overview
          </a>
        </nav>
        <div class="who">
          <span class={`role role-${role}`} data-role={role}>
            {role === 'operator' ? 'Operator' : 'Reader: read only'}
          </span>
          <button type="button" class="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        {route.screen === 'stream' ? (
          <StreamPage key={route.stream} stream={route.stream} role={role} onSessionEnded={ended} />
        ) : (
          <Overview role={role} onSessionEnded={ended} />
        )}
      </main>
    </div>
  );
}
