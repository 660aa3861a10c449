// `npm start`: build if there is no build yet (npm ci builds through `prepare`), then run
// the server in this process so that SIGTERM reaches it directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = new URL('../apps/server/dist/main.js', import.meta.url);
if (
  !existsSync(main) ||
  !existsSync(new URL('../apps/admin-ui/dist/index.html', import.meta.url))
) {
  console.log('No build found: building (npm run build)…');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
await import(main.href);
