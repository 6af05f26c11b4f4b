'use strict';
/**
 * `node scripts/redis-watchdog.js <redis-server pid>`: started by scripts/start.js next to the
 * redis-server it starts, in a process group of its own and connected to it by an IPC channel.
 * start.js sends `{ app: <pid> }` once the app runs (a process group leader) and SIGTERMs this
 * watchdog once that redis-server has exited.
 *
 * When start.js dies without that (SIGKILL, ...), the channel closes ('disconnect'). The app then
 * stops by itself (scripts/lifeline.js) and its graceful shutdown still needs Redis: so wait until
 * the app's process group is gone, at most APP_WAIT_MS, then SIGTERM the redis-server (which
 * fsyncs its AOF) and SIGKILL it if it is still there REDIS_WAIT_MS later.
 */
const fs = require('node:fs');

const APP_WAIT_MS = 5_000;
const REDIS_WAIT_MS = 2_000;
const POLL_MS = 100;

const redisPid = Number(process.argv[2]);
let appGroup;

process.on('message', (message) => {
  if (message && Number.isInteger(message.app)) appGroup = message.app;
});
process.on('SIGHUP', () => {}); // a closing terminal must not take the watchdog with it
process.once('disconnect', () => void stopRedis());

async function stopRedis() {
  if (appGroup !== undefined) await waitUntil(() => !alive(-appGroup), APP_WAIT_MS);
  if (!alive(redisPid)) return;
  console.error(`[start] start.js is gone: stopping its redis-server (pid ${redisPid})`);
  signal(redisPid, 'SIGTERM');
  if (!(await waitUntil(() => !alive(redisPid), REDIS_WAIT_MS))) signal(redisPid, 'SIGKILL');
}

async function waitUntil(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/**
 * Whether a process (pid > 0) or a process group (-pgid) has a live member. kill(0) also succeeds
 * for zombies, and an orphan stays one until init reaps it (some inits take seconds): on Linux,
 * look at the members' states in /proc.
 */
function alive(id) {
  try {
    process.kill(id, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  if (!fs.existsSync('/proc/self/stat')) return true; // no /proc: trust kill(0)
  const pids = id > 0 ? [String(id)] : fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  return pids.some((pid) => {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return false; // gone meanwhile
    }
    // "<pid> (<comm>) <state> <ppid> <pgrp> ...": comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state !== 'Z' && state !== 'X' && (id > 0 || Number(pgrp) === -id);
  });
}
