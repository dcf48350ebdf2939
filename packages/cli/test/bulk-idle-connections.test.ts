import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bulkArgs, itemLines, openAIAnswer, readJsonLines, runCli, temporaryDirectory } from './helpers.js';

const directory = temporaryDirectory();
afterAll(() => directory.remove());

const CALLS = 6;
const BATCH = 300;
const CLOSE_AFTER_MS = 400;
const DIMENSIONS = 1536;

/**
 * A server that answers call 2 last: calls 1, 3, 4 and 5 go over one connection and wait, answered, for
 * call 2, which the CLI writes first (in input order). Once call 2's answer is sent, the server closes
 * every idle connection, as a keep-alive timeout does on a server whose client sits busy. Call 6 goes
 * out while the CLI writes calls 2 to 5 (the engine's window then has room again).
 */
async function serverClosingIdleConnections() {
  const state = { requests: 0 };
  let releaseSecond!: () => void;
  const secondHeld = new Promise<void>((resolve) => {
    releaseSecond = resolve;
  });
  let answeredOthers = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const number = ++state.requests;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string[] };
      const answer = openAIAnswer(body.input, DIMENSIONS);
      const send = () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body));
      };
      if (number !== 2) {
        send();
        if (number !== 1 && ++answeredOthers === 3) releaseSecond();
        return;
      }
      void secondHeld.then(() => {
        // Once the CLI has read the answer and writes its rows. Reading 2.5 MB on loopback takes a few
        // ms, and a CLI that lets the loop turn as it writes sends call 6 at its first turn, tens of ms
        // later even on a loaded machine, well before the close: its connection is busy then, not idle.
        // One that writes calls 2 to 5 in one stretch (1,843,200 values as JSON text, 0.7 µs a value here:
        // over a second) is still writing at the close, and sends call 6 after it, on a closed connection.
        response.on('finish', () => setTimeout(() => server.closeIdleConnections(), CLOSE_AFTER_MS));
        send();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('bulk over connections the server closes while results are written', () => {
  it('sends the next call on a connection that is still open: no retry, no request lost', async () => {
    const server = await serverClosingIdleConnections();
    try {
      const input = join(directory.path, 'inputs.txt');
      const out = join(directory.path, 'out.jsonl');
      writeFileSync(input, itemLines(CALLS * BATCH));
      const result = await runCli(
        bulkArgs(
          server,
          input,
          out,
          ['--progress', 'none', '--concurrency', '2', '--batch-size', String(BATCH), '--no-cache'],
          DIMENSIONS,
        ),
      );
      expect(result.stderr).toMatch(/, 0 retries, 0 rate-limit waits\.\n$/);
      expect(result.code).toBe(0);
      // A call sent on a connection closed under it reaches the server never, and is sent again.
      expect(server.state.requests).toBe(CALLS);
      const rows = readJsonLines<{ id: number }>(out);
      expect(rows.map((row) => row.id)).toEqual(Array.from({ length: CALLS * BATCH }, (_, n) => n + 1));
    } finally {
      await server.close();
    }
  }, 60_000);
});
