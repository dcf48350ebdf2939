// CPU time by thread, for the share of a client's CPU that V8 spends off the main thread.

import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's thread times (USER_HZ: 100 on every Linux build Node runs on). */
const TICKS_PER_SECOND = 100;

/**
 * CPU ms of this process's main thread and of all its threads, read from /proc; undefined where there is
 * no /proc (not Linux). The other threads are V8's helpers (concurrent and parallel garbage collection,
 * background compiling) and libuv's pool.
 */
export function threadCpuMs() {
  let all = 0;
  let main = 0;
  try {
    for (const id of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces), from the state: utime is the 12th, stime the 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
      all += ms;
      if (id === String(process.pid)) main = ms;
    }
  } catch {
    return undefined;
  }
  return { main, all };
}
