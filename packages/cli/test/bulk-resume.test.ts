import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeServer,
  parseNpy,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
} from './helpers.js';

const COUNT = 100_000;
const DIMENSIONS = 8;

describe('bulk: a run killed midway (SIGKILL) and resumed', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  const input = join(directory.path, 'in.txt');
  const out = join(directory.path, 'vectors.npy');
  const meta = join(directory.path, 'vectors.meta.jsonl');
  const checkpoint = `${out}.checkpoint`;

  beforeAll(async () => {
    const lines: string[] = [];
    for (let n = 0; n < COUNT; n++) lines.push(`item ${n}`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    // Slow answers, so the kill lands in the middle of the job.
    server = await startFakeOpenAI({ delayMs: 10 });
  });

  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  const command = [
    'bulk',
    input,
    '--model',
    'openai:text-embedding-3-small',
    '--dimensions',
    String(DIMENSIONS),
    '--out',
    out,
    '--batch-size',
    '500',
    '--concurrency',
    '2',
  ];

  it('ends with every input once, in order: the .npy reads back byte for byte', async () => {
    let killedAt = 0;
    const first = await runCli([...command, '--base-url', server.baseURL, '--progress', 'none'], {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (!existsSync(checkpoint)) return;
          let done = 0;
          try {
            done = (JSON.parse(readFileSync(checkpoint, 'utf8')) as { inputsDone: number }).inputsDone;
          } catch {
            return; // never half-written: the checkpoint is renamed into place; a read may race a rename.
          }
          if (done >= 10_000) {
            killedAt = done;
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(first.signal).toBe('SIGKILL');
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as {
      inputsDone: number;
      complete: boolean;
      bytes: Record<string, number>;
    };
    expect(saved.complete).toBe(false);
    expect(saved.inputsDone).toBeGreaterThanOrEqual(killedAt);
    expect(saved.inputsDone).toBeLessThan(COUNT);
    // The checkpoint describes only data that reached the disk.
    expect(readFileSync(out).length).toBeGreaterThanOrEqual(saved.bytes['vectors.npy']!);
    expect(saved.bytes['vectors.npy']).toBe(128 + saved.inputsDone * DIMENSIONS * 4);

    // A crash in the middle of an append leaves a torn tail; the resume must cut it off.
    appendFileSync(out, Buffer.alloc(77, 0xab));
    appendFileSync(meta, '{"id":99999999,"li');

    // The killed run's last request may still be in the server's socket buffer (the server lives in this
    // process): let the count stand still for 250 ms before taking it.
    let answeredBefore = server.inputsAnswered;
    for (let quiet = 0; quiet < 5; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (server.inputsAnswered === answeredBefore) quiet++;
      else {
        answeredBefore = server.inputsAnswered;
        quiet = 0;
      }
    }
    const second = await runCli([...command, '--base-url', server.baseURL, '--progress', 'plain']);
    expect(second.stderr).toContain(`resuming ${out}: ${saved.inputsDone} inputs already done.`);
    expect(second.code).toBe(0);
    // Nothing done before the kill was embedded again.
    expect(server.inputsAnswered - answeredBefore).toBe(COUNT - saved.inputsDone);

    const bytes = readFileSync(out);
    const header = parseNpy(bytes);
    expect(header).toMatchObject({ descr: '<f4', fortranOrder: 'False', shape: [COUNT, DIMENSIONS] });
    const expected = Buffer.alloc(COUNT * DIMENSIONS * 4);
    for (let n = 0; n < COUNT; n++) {
      const vector = vectorFor(`item ${n}`, DIMENSIONS);
      for (let index = 0; index < DIMENSIONS; index++)
        expected.writeFloatLE(vector[index]!, (n * DIMENSIONS + index) * 4);
    }
    expect(bytes.length).toBe(header.dataOffset + expected.length);
    expect(bytes.subarray(header.dataOffset).equals(expected)).toBe(true);

    const metaLines = readFileSync(meta, 'utf8').split('\n');
    expect(metaLines.pop()).toBe('');
    expect(metaLines.length).toBe(COUNT);
    for (let n = 0; n < COUNT; n++) {
      if (metaLines[n] !== `{"id":${n + 1},"line":${n + 1}}`)
        expect(metaLines[n]).toBe(`{"id":${n + 1},"line":${n + 1}}`);
    }
    expect(JSON.parse(readFileSync(checkpoint, 'utf8'))).toMatchObject({ inputsDone: COUNT, complete: true });

    // Running the finished job again changes nothing.
    const third = await runCli([...command, '--base-url', server.baseURL, '--progress', 'none']);
    expect(third.code).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  }, 90_000);
});
