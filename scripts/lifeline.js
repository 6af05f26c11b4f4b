'use strict';
/**
 * Preloaded by scripts/start.js into the process it starts for the app (`node -r ./scripts/lifeline.js
 * main.js`, or `nest start` with --dev): stops that process when start.js dies, however it dies.
 *
 * start.js hands it one end of a pipe as fd START_LIFELINE_FD and never writes to its own end.
 * The kernel closes that end when start.js exits, even on SIGKILL, so this end reads EOF; then
 * SIGTERM goes to this process's group (start.js made it a group leader: with --dev that is the
 * nest CLI, its `sh -c` and the app), as start.js itself does on Ctrl-C, so Nest's shutdown hooks
 * run. Without START_LIFELINE_FD (the app started directly) this does nothing.
 */
const net = require('node:net');

/** If the graceful shutdown hangs (nobody is left to press Ctrl-C a second time). */
const FORCE_AFTER_MS = 10_000;

const fd = Number(process.env.START_LIFELINE_FD);
delete process.env.START_LIFELINE_FD; // meant for this process, not for the ones it starts

if (Number.isInteger(fd) && fd > 2) {
  let lifeline;
  try {
    lifeline = new net.Socket({ fd, readable: true, writable: false });
  } catch {
    lifeline = undefined; // fd not open: nothing to watch
  }
  if (lifeline) {
    let fired = false;
    const onParentGone = () => {
      if (fired) return;
      fired = true;
      console.error(`[start] start.js is gone: stopping the app (pid ${process.pid})`);
      try {
        process.kill(-process.pid, 'SIGTERM');
      } catch {
        process.kill(process.pid, 'SIGTERM'); // not a group leader (started some other way)
      }
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), FORCE_AFTER_MS).unref();
    };
    lifeline.on('error', onParentGone);
    lifeline.on('end', onParentGone);
    lifeline.on('close', onParentGone);
    lifeline.resume();
    lifeline.unref(); // it never keeps the process alive by itself
  }
}
