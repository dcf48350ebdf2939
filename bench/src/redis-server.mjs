// A throwaway Redis for tests and benchmarks: Debian's `redis-server` on a free loopback port, with no
// persistence (nothing is written to disk, so a restart starts empty, as a crashed cache would), stopped
// when the caller is done or exits. `.ci/run` installs redis-server when it is missing.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

/** A port nothing listens on right now (the OS picks it). */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether a Redis on `port` answers PING. */
function answersPing(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (value) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `redis-server` on a free loopback port. Returns its `url` and controls: `kill()` (SIGKILL, as a
 * crash), `start()` (again, on the same port, empty), `freeze()` / `thaw()` (SIGSTOP / SIGCONT: a server
 * that accepts nothing and answers nothing), `stop()`.
 */
export async function startRedisServer({ binary = process.env.REDIS_SERVER ?? 'redis-server' } = {}) {
  const port = await freePort();
  let child;
  async function start() {
    child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let errorOutput = '';
    child.stderr.on('data', (chunk) => {
      errorOutput = (errorOutput + chunk).slice(-2000);
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const failed = await new Promise((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    if (failed !== undefined) {
      throw new Error(
        failed.code === 'ENOENT'
          ? `${binary} is not installed; install it with: apt-get install -y redis-server`
          : `cannot start ${binary}: ${failed.message}`,
      );
    }
    running.add(child);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await answersPing(port)) return;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`redis-server did not start on port ${port}: ${errorOutput.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  async function kill() {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
    running.delete(child);
  }
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    stop: kill,
  };
}
