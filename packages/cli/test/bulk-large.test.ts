import {
  appendFileSync,
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulkArgs,
  FAKE_KEY,
  type FakeAnswer,
  type FakeServer,
  indexArgs,
  maxRssFromTime,
  readIndexFile,
  readJsonLines,
  runCli,
  serverAndFiles,
  startFakeOpenAI,
  temporaryDirectory,
  vectorFor,
} from './helpers.js';

const COUNT = 100_000;
const DIMENSIONS = 8;
/**
 * The memory bound, for 100,000 inputs of about 1 KB each (a 100 MB input file): the child runs with
 * V8's old space capped at 64 MiB, so a run that kept the inputs or the records would die of "heap out
 * of memory"; its peak resident memory (runtime, undici, buffers included) stays under 320 MiB; and
 * twice the input (200,000) may cost at most 32 MiB more: memory does not grow with the input (a run
 * that kept each input's bytes outside the heap would grow by about 100 MiB).
 *
 * The young generation is pinned too (16 MiB a semi-space). Left to V8, Node 24 grows it as the
 * allocation rate asks, at no fixed point of a run, so the peak moved with the moment rather than the
 * input: unpinned, growth from 100,000 to 200,000 inputs on Node 24 measured -3 to +36 MiB over nine
 * pairs of runs (one past the bound; 100,000-input peaks 174 to 245 MiB); pinned, +5 to +15 over five
 * (peaks 151 to 158 MiB, then 159 to 167). Node 20: -8 and -2, peaks 131 to 139 MiB, either way.
 */
const HEAP_CAP_MIB = 64;
const SEMI_SPACE_MIB = 16;
const MAX_RSS_KIB = 320 * 1024;
const DOUBLE_COUNT = 2 * COUNT;
const MAX_GROWTH_KIB = 32 * 1024;
const HEAP_OPTIONS = `--max-old-space-size=${HEAP_CAP_MIB} --max-semi-space-size=${SEMI_SPACE_MIB}`;
/**
 * What 144 MiB more of blank lines may cost: held until the next input was written (bulk) or the end of
 * the input (index), they cost about 150 to 190 MiB more; let go as read, 5 to 45 on Node 20 and up to
 * 54 on Node 24 (garbage the collector has not yet reclaimed: the bound leaves room for it).
 */
const MAX_BLANK_GROWTH_KIB = 96 * 1024;

const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.repeat(13);

function text(n: number): string {
  return `item ${n} ${FILLER.slice(0, 900 + (n % 100))}`;
}

/**
 * Peak memory: /usr/bin/time -v measures the child from outside when it exists; otherwise the CLI's
 * hidden --debug-max-rss flag prints process.resourceUsage().maxRSS at exit.
 */
const USE_TIME = existsSync('/usr/bin/time');
const PEAK_RSS_ARGS = USE_TIME ? [] : ['--debug-max-rss'];

/** The peak resident memory of a run, in KiB, as {@link USE_TIME} measures it. */
function peakKiB(stderr: string): number | undefined {
  return USE_TIME ? maxRssFromTime(stderr) : Number(/maxRSS (\d+) KiB/.exec(stderr)?.[1]);
}

function expectedVector(n: number): number[] {
  return Array.from(vectorFor(text(n), DIMENSIONS));
}

describe('bulk: 100,000 inputs through a server that answers 429 and 500 along the way', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  let injected429 = 0;
  let injected500 = 0;

  beforeAll(async () => {
    const lines: string[] = [];
    for (let n = 0; n < COUNT; n++)
      lines.push(JSON.stringify({ id: `doc-${n}`, text: text(n), group: n % 10 }));
    writeFileSync(join(directory.path, 'in.jsonl'), `${lines.join('\n')}\n`);
    // The same records twice over (the second copy with ids of its own) for the growth check.
    const double = join(directory.path, 'double.jsonl');
    writeFileSync(double, `${lines.join('\n')}\n`);
    for (let start = 0; start < COUNT; start += 10_000) {
      const piece = lines
        .slice(start, start + 10_000)
        .map((line) => line.replace('"id":"doc-', '"id":"again-'));
      appendFileSync(double, `${piece.join('\n')}\n`);
    }
    server = await startFakeOpenAI({
      intercept: ({ number }): FakeAnswer | undefined => {
        if (number === 2) {
          injected429++;
          return {
            status: 429,
            headers: { 'retry-after': '1' },
            body: {
              error: {
                message: 'Rate limit reached for requests',
                type: 'requests',
                code: 'rate_limit_exceeded',
              },
            },
          };
        }
        if (number % 9 === 4) {
          injected429++;
          return {
            status: 429,
            headers: { 'retry-after-ms': '25' },
            body: {
              error: {
                message: 'Rate limit reached for tokens',
                type: 'tokens',
                code: 'rate_limit_exceeded',
              },
            },
          };
        }
        if (number % 13 === 7) {
          injected500++;
          return {
            status: 500,
            body: {
              error: {
                message: 'The server had an error while processing your request.',
                type: 'server_error',
              },
            },
          };
        }
        return undefined;
      },
    });
    // 300 MB of input files: on a busy machine this takes longer than the default 10 s.
  }, 60_000);

  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  it('writes exactly 100,000 records, each input once and in order, within the memory bound', async () => {
    const out = join(directory.path, 'out.jsonl');
    const run = (input: string, output: string, baseURL: string) =>
      runCli(
        [
          'bulk',
          join(directory.path, input),
          '--model',
          'openai:text-embedding-3-small',
          '--dimensions',
          String(DIMENSIONS),
          '--base-url',
          baseURL,
          '--out',
          output,
          '--max-retries',
          '5',
          '--progress',
          'plain',
          '--progress-interval',
          '0.5',
          ...PEAK_RSS_ARGS,
        ],
        {
          timeVerbose: USE_TIME,
          env: {
            NODE_OPTIONS: HEAP_OPTIONS,
          },
        },
      );
    const result = await run('in.jsonl', out, server.baseURL);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);

    let count = 0;
    const reader = createInterface({ input: createReadStream(out), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of reader) {
      const record = JSON.parse(line) as {
        id: string;
        line: number;
        metadata: { group: number };
        embedding: number[];
      };
      const n = count;
      if (record.id !== `doc-${n}` || record.line !== n + 1 || record.metadata.group !== n % 10) {
        expect(record).toMatchObject({ id: `doc-${n}`, line: n + 1, metadata: { group: n % 10 } });
      }
      const expected = expectedVector(n);
      if (
        record.embedding.length !== DIMENSIONS ||
        record.embedding.some((value, index) => value !== expected[index])
      ) {
        expect(record.embedding).toEqual(expected);
      }
      count++;
    }
    expect(count).toBe(COUNT);

    // Every injected failure was retried exactly once more, and every input was answered.
    expect(injected429).toBeGreaterThan(5);
    expect(injected500).toBeGreaterThan(5);
    expect(server.inputsAnswered).toBe(COUNT);
    expect(result.stderr).toMatch(
      new RegExp(
        `done: ${COUNT} inputs in .*out\\.jsonl \\(${COUNT} this run\\) in [\\d.]+s, ${injected429 + injected500} retries, ${injected429} rate-limit waits\\.`,
      ),
    );
    // Plain progress lines (stderr is not a terminal here).
    expect(result.stderr).toMatch(
      /embedkit: \d+ inputs done \([\d.]+%\), \d+ tokens\/s, ETA \S+, \d+ retries, \d+ rate-limit waits \([\d.]+s\)/,
    );

    const checkpoint = JSON.parse(readFileSync(`${out}.checkpoint`, 'utf8')) as {
      inputsDone: number;
      complete: boolean;
    };
    expect(checkpoint).toMatchObject({ inputsDone: COUNT, complete: true });

    const rssKiB = peakKiB(result.stderr);
    expect(rssKiB).toBeGreaterThan(10_000);
    expect(rssKiB).toBeLessThan(MAX_RSS_KIB);
    // Twice the input, against a server of its own (the failures injected above count for the big run alone).
    const doubleServer = await startFakeOpenAI();
    const doubled = await run('double.jsonl', join(directory.path, 'double-out.jsonl'), doubleServer.baseURL);
    await doubleServer.close();
    expect(doubled.code).toBe(0);
    expect(doubleServer.inputsAnswered).toBe(DOUBLE_COUNT);
    const doubledKiB = peakKiB(doubled.stderr);
    console.log(
      `bulk: peak RSS ${Math.round(rssKiB! / 1024)} MiB for ${COUNT} inputs, ${Math.round(doubledKiB! / 1024)} MiB for ${DOUBLE_COUNT} (bounds ${MAX_RSS_KIB / 1024} MiB, +${MAX_GROWTH_KIB / 1024} MiB), ${server.requests} requests`,
    );
    expect(doubledKiB).toBeLessThan(rssKiB! + MAX_GROWTH_KIB);
    expect(result.stdout + result.stderr).not.toContain(FAKE_KEY);
    expect([...server.authorizations]).toEqual([`Bearer ${FAKE_KEY}`]);
  }, 240_000);
});

describe('bulk: a long run of blank lines between two inputs', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  /** Lines of white space, 1 MiB each with their line break: a line skipped, as blank. */
  const BLANK_LINE = Buffer.alloc(1024 * 1024, ' ');
  BLANK_LINE[BLANK_LINE.length - 1] = 0x0a;

  /** "item 0", then `blankLines` blank lines, then "item 1": the two inputs are lines 1 and blankLines + 2. */
  function writeInput(name: string, blankLines: number): string {
    const path = join(directory.path, name);
    const descriptor = openSync(path, 'w');
    writeSync(descriptor, 'item 0\n');
    for (let line = 0; line < blankLines; line++) writeSync(descriptor, BLANK_LINE);
    writeSync(descriptor, 'item 1\n');
    closeSync(descriptor);
    return path;
  }

  /** The inputs, by their number of blank lines. */
  const inputs = new Map<number, string>();

  beforeAll(async () => {
    server = await startFakeOpenAI();
    for (const blankLines of [16, 160])
      inputs.set(blankLines, writeInput(`in-${blankLines}.txt`, blankLines));
  }, 60_000);

  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  /**
   * Runs the command `args` gives (the input of 16, then of 160 blank lines, and an output named
   * `<name>-<blank lines>.<extension>`) under the heap cap, checks each output with `check`, and expects
   * ten times the blank lines to cost no more memory.
   */
  async function expectBoundedMemory(
    name: string,
    extension: string,
    args: (input: string, out: string) => string[],
    check: (out: string, blankLines: number) => void,
  ): Promise<void> {
    const peaks: number[] = [];
    for (const blankLines of [16, 160]) {
      const out = join(directory.path, `${name}-${blankLines}.${extension}`);
      const result = await runCli([...args(inputs.get(blankLines)!, out), ...PEAK_RSS_ARGS], {
        timeVerbose: USE_TIME,
        env: { NODE_OPTIONS: HEAP_OPTIONS },
      });
      expect(result.stderr).not.toContain('error');
      expect(result.code).toBe(0);
      check(out, blankLines);
      peaks.push(peakKiB(result.stderr)!);
    }
    const [small, large] = peaks as [number, number];
    console.log(
      `${name}: peak RSS ${Math.round(small / 1024)} MiB past 16 MiB of blank lines, ${Math.round(large / 1024)} MiB past 160 MiB`,
    );
    expect(large).toBeLessThan(small + MAX_BLANK_GROWTH_KIB);
  }

  it('holds none of them: ten times the blank lines costs no more memory, and the rows keep their lines', async () => {
    await expectBoundedMemory(
      'bulk',
      'jsonl',
      (input, out) => bulkArgs(server, input, out, [], DIMENSIONS),
      (out, blankLines) =>
        expect(readJsonLines(out)).toEqual([
          { id: 1, line: 1, embedding: Array.from(vectorFor('item 0', DIMENSIONS)) },
          {
            id: blankLines + 2,
            line: blankLines + 2,
            embedding: Array.from(vectorFor('item 1', DIMENSIONS)),
          },
        ]),
    );
  }, 120_000);

  it('index holds none of the input it has read: ten times the blank lines costs no more memory', async () => {
    await expectBoundedMemory(
      'index',
      'ekx',
      (input, out) => indexArgs(server, input, out, [], DIMENSIONS),
      (out, blankLines) => {
        const { header, docs } = readIndexFile(out);
        expect(header.count).toBe(2);
        expect(docs.map(({ line, text }) => ({ line, text }))).toEqual([
          { line: 1, text: 'item 0' },
          { line: blankLines + 2, text: 'item 1' },
        ]);
      },
    );
  }, 120_000);
});

describe('index: the ids of a .txt input are its line numbers, which never repeat', () => {
  const directory = temporaryDirectory();
  let server: FakeServer;
  /**
   * Four times the lines may cost at most this much more. Each id kept for the repeat check cost 24 to
   * 36 bytes (a 64-bit hash and a line in a table at most half full, doubled as it grows): 4,000,000 lines
   * cost 112 MiB more than 1,000,000 did, and 2,000,000 cost 54 MiB more than 500,000; kept no more, 8
   * and 19 MiB more (the smaller run ends before the heap has grown to its working size).
   */
  const MAX_LINES_GROWTH_KIB = 32 * 1024;

  /** `lines` lines "item <n>", then one that is not UTF-8: the first pass reads them all, then refuses. */
  function writeInput(lines: number): string {
    const path = join(directory.path, `lines-${lines}.txt`);
    const descriptor = openSync(path, 'w');
    for (let start = 1; start <= lines; start += 100_000) {
      const piece: string[] = [];
      for (let n = start; n < start + 100_000 && n <= lines; n++) piece.push(`item ${n}\n`);
      writeSync(descriptor, piece.join(''));
    }
    writeSync(descriptor, Buffer.from('bad \xff\n', 'latin1'));
    closeSync(descriptor);
    return path;
  }

  beforeAll(async () => {
    server = await startFakeOpenAI();
  });

  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  it('keeps none of them while reading the file first: four times the lines costs no more memory', async () => {
    const peaks: number[] = [];
    for (const lines of [500_000, 2_000_000]) {
      const input = writeInput(lines);
      const out = join(directory.path, `lines-${lines}.ekx`);
      const result = await runCli([...indexArgs(server, input, out, [], DIMENSIONS), ...PEAK_RSS_ARGS], {
        timeVerbose: USE_TIME,
        env: { NODE_OPTIONS: HEAP_OPTIONS },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${input}:${lines + 1}: the byte 0xFF at column 5 is not valid UTF-8`);
      expect(existsSync(out)).toBe(false);
      peaks.push(peakKiB(result.stderr)!);
    }
    expect(server.requests).toBe(0);
    const [small, large] = peaks as [number, number];
    console.log(
      `index: peak RSS ${Math.round(small / 1024)} MiB reading 500,000 lines, ${Math.round(large / 1024)} MiB reading 2,000,000`,
    );
    expect(large).toBeLessThan(small + MAX_LINES_GROWTH_KIB);
  }, 120_000);
});

describe('index: a .jsonl input whose id repeats far from its first line', () => {
  const context = serverAndFiles();

  it('names both lines, 3 and 900,001, before anything is sent (only fingerprints are kept: the file is read again to name line 3)', async () => {
    const { server, file } = context;
    const records = Array.from({ length: 900_001 }, (_, index) => {
      const n = index + 1;
      return `{"id":"doc-${n === 900_001 ? 3 : n}","text":"item ${n}"}\n`;
    });
    const input = file('far.jsonl', records.join(''));
    const out = file('far.ekx');
    const result = await runCli(indexArgs(server, input, out, [], DIMENSIONS));
    expect(result.stderr).toBe(
      `embedkit: error: ${input}:900001: the id "doc-3" is already the id of line 3; ids in an index must be unique, or search answers with two documents under one id. Give each record its own id, or choose another field with --id-field.\nNo index was written.\n`,
    );
    expect(result.code).toBe(2);
    expect(server.requests).toBe(0);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
