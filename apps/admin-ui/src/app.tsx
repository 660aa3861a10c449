import { useEffect, useState } from 'react';

interface Health {
  status: string;
  database: string;
  sessions: number;
}

/**
 * The operator console's home page. For now it shows the server's health; users,
 * certificates and bindings come with the operator API.
 */
export function App() {
  const [health, setHealth] = useState<Health | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    fetch('/healthz')
      .then(async (r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        setHealth((await r.json()) as Health);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);

  return (
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: 720,
        margin: '2rem auto',
        padding: '0 1rem',
      }}
    >
      <h1>IRP Domain Identity Registry</h1>
      <p>Operator console. Identity Registration Protocol (IRP 1.0) on TCP port 4604.</p>
      <section aria-label="server status">
        <h2>Server status</h2>
        {error && <p role="alert">Health check failed: {error}</p>}
        {!error && !health && <p>Checking…</p>}
        {health && (
          <dl>
            <dt>Status</dt>
            <dd data-testid="status">{health.status}</dd>
            <dt>Database</dt>
            <dd data-testid="database">{health.database}</dd>
            <dt>Open IRP sessions</dt>
            <dd data-testid="sessions">{health.sessions}</dd>
          </dl>
        )}
      </section>
    </main>
  );
}
