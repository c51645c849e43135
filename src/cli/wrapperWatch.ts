/**
 * A command started by npm (`npx specdec serve`, `npm run serve`) runs under a shell that npm
 * starts; npm passes SIGINT and SIGTERM to that shell only, which dies without passing them on,
 * and the command would live on as an orphan holding its port. Under npm, the command therefore
 * follows its parent: when the process that started it is gone, it stops as on a signal.
 */

/** how often the parent is looked at (a cheap property read) */
const WATCH_MS = 500;

/**
 * Call `onGone` once when this process's parent changes (it died, so the process was
 * re-parented), if npm started it; returns the function that stops watching. Outside npm a
 * parent that exits is a shell the user left (`specdec serve &`), and serve keeps serving.
 */
export function followNpmWrapper(onGone: () => void): () => void {
  if (process.env.npm_lifecycle_event === undefined) return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, WATCH_MS);
  timer.unref();
  return () => clearInterval(timer);
}
