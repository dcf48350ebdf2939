import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeServer,
  filesIn,
  indexArgs,
  indexBytesWithHeader,
  readIndexFile,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

/**
 * What index, search and embed do at their edges: an index file that is damaged, cut short or not one
 * (refused in words, before the query is sent, whatever lengths its header states), a query whose vector
 * is all zeros, what search prints of texts and ids that hold control characters, an --out that is a
 * directory, a --timeout the engine cannot count, an input type the model lacks, and stdin given to
 * embed as bytes that are not UTF-8 or named twice. Each case names the bug it catches.
 */

const MODEL = ['--model', 'openai:text-embedding-3-small'];

describe('index, search and embed at their edges', () => {
  const directory = temporaryDirectory();
  const file = filesIn(directory.path);
  let server: FakeServer;
  /** A good index of three documents, 4 dimensions, built through `server`. */
  let good: string;

  beforeAll(async () => {
    server = await startFakeOpenAI();
    const input = file(
      'docs.jsonl',
      `${['item 1', 'item 2', 'item 3'].map((text, n) => JSON.stringify({ id: `d${n}`, text })).join('\n')}\n`,
    );
    good = file('good.ekx');
    const built = await runCli(indexArgs(server, input, good, ['--quiet']));
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
  });
  afterAll(async () => {
    await server.close();
    directory.remove();
  });

  /** `embedkit search <path> <query>` against the test server. */
  const search = (path: string, query = 'item 2', extra: string[] = []) =>
    runCli(['search', path, query, '--base-url', server.baseURL, ...extra]);

  /** The good index with its header replaced by `header` (the vectors and documents kept as they are). */
  function withHeader(name: string, header: unknown): string {
    return file(name, indexBytesWithHeader(good, header));
  }

  describe('a damaged index file is refused in words, before the query is sent', () => {
    const damaged = (path: string, why: string) =>
      `embedkit: error: ${path} is damaged or not an embedkit index: ${why}. Rebuild it with "embedkit index".\n`;

    it('a header length past the end of the file (bug: 4 GiB allocated, then a native assertion and exit 134)', async () => {
      const bytes = readFileSync(good);
      bytes.writeUInt32LE(0xffffffff, 8);
      const path = file('huge-header.ekx', bytes);
      const requests = server.requests;
      const result = await search(path);
      expect(result.stderr).toBe(
        damaged(path, `its header runs past the end of the file (${bytes.length} bytes)`),
      );
      expect(result.code).toBe(1);
      expect(server.requests).toBe(requests);
    });

    it('a file cut inside its header, or just after the magic (bug: "Bad control character in string literal in JSON at position 28")', async () => {
      const bytes = readFileSync(good);
      for (const [name, length] of [
        ['cut-header.ekx', 40],
        ['cut-magic.ekx', 8],
      ] as const) {
        const path = file(name, bytes.subarray(0, length));
        const result = await search(path);
        expect(result.stderr).toBe(
          damaged(path, `its header runs past the end of the file (${length} bytes)`),
        );
        expect(result.code).toBe(1);
      }
    });

    it('a header that is not JSON, or not an index header (bug: "Unexpected token" from JSON.parse)', async () => {
      const bytes = Buffer.from(readFileSync(good));
      bytes.write('[', 12, 'latin1');
      const garbled = file('garbled.ekx', bytes);
      const result = await search(garbled);
      expect(result.stderr).toBe(damaged(garbled, 'its header is not valid JSON'));
      expect(result.code).toBe(1);
      const other = withHeader('other.ekx', { format: 'something-else', version: 1 });
      expect((await search(other)).stderr).toBe(damaged(other, 'its header is not an index header'));
    });

    it('a count or dimensions that is no whole number ≥ 1 (bug: "Invalid typed array length: -4", a string count taken as a number)', async () => {
      const { header } = readIndexFile(good);
      const requests = server.requests;
      for (const [name, field, value, shown] of [
        ['negative', 'count', -1, '-1'],
        ['fraction', 'count', 1.5, '1.5'],
        ['string', 'count', '3', '"3"'],
        ['zero', 'dimensions', 0, '0'],
      ] as const) {
        const path = withHeader(`${name}.ekx`, { ...header, [field]: value });
        const result = await search(path);
        expect(result.stderr).toBe(
          damaged(path, `its header's ${field} is ${shown}, not a whole number ≥ 1`),
        );
        expect(result.code).toBe(1);
      }
      expect(server.requests).toBe(requests);
    });

    it('a count larger than the file holds is refused by the file size, before any allocation (bug: "Invalid typed array length: undefined"; a smaller one allocated gigabytes first)', async () => {
      const { header } = readIndexFile(good);
      const path = withHeader('billion.ekx', { ...header, count: 1_000_000_000 });
      const bytes = readFileSync(path);
      const vectorsAt = Math.ceil((12 + bytes.readUInt32LE(8)) / 16) * 16;
      const result = await search(path);
      expect(result.stderr).toBe(
        `embedkit: error: ${path} is truncated: expected 1000000000 vectors of 4 values (16000000000 bytes from byte ${vectorsAt}), but the file is ${bytes.length} bytes long. Rebuild the index.\n`,
      );
      expect(result.code).toBe(1);
    });

    it('a file cut after its vectors or inside its documents (bug: every hit printed as "undefined" with an empty text, exit 0)', async () => {
      const { header, vectorsOffset } = readIndexFile(good);
      const docsAt = vectorsOffset + header.count * header.dimensions * 4;
      const bytes = readFileSync(good);
      const requests = server.requests;
      for (const [name, keep] of [
        ['no-docs.ekx', 0],
        ['cut-docs.ekx', 30],
      ] as const) {
        const path = file(name, bytes.subarray(0, docsAt + keep));
        const result = await search(path);
        expect(result.stdout).toBe('');
        expect(result.stderr).toBe(
          `embedkit: error: ${path} is truncated: its 3 documents do not fit in the ${keep} bytes after its vectors, or the last one is cut short. Rebuild the index.\n`,
        );
        expect(result.code).toBe(1);
      }
      expect(server.requests).toBe(requests);
    });

    it('a count smaller than the vectors it holds: documents read from inside the vectors (bug: "Unexpected token" from JSON.parse)', async () => {
      const { header } = readIndexFile(good);
      const path = withHeader('fewer.ekx', { ...header, count: 2 });
      const result = await search(path);
      expect(result.stderr).toBe(damaged(path, 'document 1 is not a JSON object'));
      expect(result.code).toBe(1);
    });

    it('a vector holding NaN or an infinity (bug: the query was paid for, then "Vector 1 holds NaN at position 2; a corpus holds finite numbers.")', async () => {
      const { header, vectorsOffset } = readIndexFile(good);
      const requests = server.requests;
      for (const [name, value, shown] of [
        ['nan.ekx', Number.NaN, 'NaN'],
        ['infinity.ekx', Number.NEGATIVE_INFINITY, '-Infinity'],
      ] as const) {
        const bytes = Buffer.from(readFileSync(good));
        bytes.writeFloatLE(value, vectorsOffset + (header.dimensions + 2) * 4);
        const path = file(name, bytes);
        const result = await search(path);
        expect(result.stdout).toBe('');
        expect(result.stderr).toBe(damaged(path, `vector 2 holds ${shown} at position 3`));
        expect(result.code).toBe(1);
      }
      expect(server.requests).toBe(requests);
    });

    it('another version says what to do (bug: "unsupported index version 2." and nothing more)', async () => {
      const { header } = readIndexFile(good);
      const path = withHeader('v2.ekx', { ...header, version: 2 });
      const result = await search(path);
      expect(result.stderr).toBe(
        `embedkit: error: ${path}: unsupported index version 2; this embedkit reads version 1. Rebuild the index with this version of embedkit, or search it with the version that built it.\n`,
      );
      expect(result.code).toBe(1);
    });
  });

  it('--json gives each hit the rank and score of this search, whatever a document line of the file holds (bug: a line with "score": 99 printed that score)', async () => {
    const { header, vectorsOffset } = readIndexFile(good);
    const docsAt = vectorsOffset + header.count * header.dimensions * 4;
    const bytes = readFileSync(good);
    const lines = bytes.subarray(docsAt).toString('utf8').split('\n');
    lines[1] = JSON.stringify({ rank: 7, score: 99, ...JSON.parse(lines[1]!) });
    const path = file(
      'scored.ekx',
      Buffer.concat([bytes.subarray(0, docsAt), Buffer.from(lines.join('\n'))]),
    );
    const result = await search(path, 'item 2', ['--top', '1', '--json']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([{ rank: 1, score: 1, id: 'd1', line: 2, text: 'item 2' }]);
    expect(Object.keys(JSON.parse(result.stdout)[0]).slice(0, 2)).toEqual(['rank', 'score']);
  });

  it('a document line without an id prints as one, never failing the search (bug: a TypeError once ids were escaped)', async () => {
    const { header, vectorsOffset } = readIndexFile(good);
    const docsAt = vectorsOffset + header.count * header.dimensions * 4;
    const bytes = readFileSync(good);
    const lines = bytes.subarray(docsAt).toString('utf8').split('\n');
    lines[1] = '{"text":"item 2"}';
    const path = file('no-id.ekx', Buffer.concat([bytes.subarray(0, docsAt), Buffer.from(lines.join('\n'))]));
    const result = await search(path, 'item 2', ['--top', '1']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('1\t1.0000\tundefined\titem 2\n');
    expect(result.code).toBe(0);
  });

  it('a query whose vector is all zeros is refused (bug: every document printed with score 0.0000, in file order, as if ranked)', async () => {
    // The fake server's vector of a text without a word is all zeros.
    const result = await search(good, '?!');
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'embedkit: error: the API returned a vector of zeros for the query, so no document is more similar to it than another. Rephrase the query, or check the server at the API root.\n',
    );
    expect(result.code).toBe(1);
  });

  it('control characters of an index’s texts and ids are shown escaped, and a cut never splits a character (bug: an escape sequence from the file reached the terminal; a cut emoji printed as U+FFFD)', async () => {
    // 22 characters, 76 more, then an emoji whose two UTF-16 units straddle the 99th: the cut is after it.
    const text = `item 1 \u001b]0;owned\u0007 \u009b2J ${'a'.repeat(76)}\u{1f600}tail`;
    const input = file('controls.jsonl', `${JSON.stringify({ id: 'x\u009b1m\u007f', text })}\n`);
    const out = file('controls.ekx');
    expect((await runCli(indexArgs(server, input, out, ['--quiet']))).code).toBe(0);
    const result = await search(out, 'item 1');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      `1\t1.0000\t"x\\u009b1m\\u007f"\titem 1 \\u001b]0;owned\\u0007 \\u009b2J ${'a'.repeat(76)}\u{1f600}…\n`,
    );
    expect(result.code).toBe(0);
  });

  it('an --out that is a directory is refused with exit 2 before anything is sent (bug: every input paid for, then "EISDIR: illegal operation on a directory, rename …")', async () => {
    const input = file('to-folder.txt', 'item 1\n');
    const out = file('folder.ekx');
    mkdirSync(out);
    const requests = server.requests;
    const result = await runCli(indexArgs(server, input, out, ['--overwrite']));
    expect(result.stderr).toBe(
      `embedkit: error: ${out} is a directory; --out names the index file to write, e.g. --out ${join(out, 'index.ekx')}.\nRun "embedkit index --help" for usage.\n`,
    );
    expect(result.code).toBe(2);
    expect(server.requests).toBe(requests);
    expect(readdirSync(directory.path).filter((name) => name.startsWith('folder.ekx'))).toEqual([
      'folder.ekx',
    ]);
  });

  it.each([
    ['0.0001', 'rounds to 0 ms'],
    ['3000000', 'is past the timer’s 2^31 − 1 ms'],
  ])(
    '--timeout %s (%s) is a usage error naming the option, before anything is sent (bug: "timeoutMs must be a whole number …", exit 1)',
    async (seconds) => {
      const requests = server.requests;
      const result = await runCli([
        'embed',
        'item 1',
        ...MODEL,
        '--base-url',
        server.baseURL,
        '--timeout',
        seconds,
      ]);
      expect(result.stderr).toBe(
        `embedkit: error: --timeout must be from 0.001 to 2147483.647 seconds (about 24 days), got "${seconds}".\nRun "embedkit embed --help" for usage.\n`,
      );
      expect(result.code).toBe(2);
      expect(server.requests).toBe(requests);
    },
  );

  it.each([
    ['embed', '--timeout', '0x10'],
    ['embed', '--timeout', '1e3'],
    ['embed', '--timeout', ' 7 8'],
    ['bulk', '--rpm', '0b11'],
    ['bulk', '--progress-interval', 'Infinity'],
  ])(
    '%s %s %s is a usage error: numbers are plain decimals (bug: 0x10 read as 16 seconds, 1e3 as 1000)',
    async (command, option, value) => {
      const requests = server.requests;
      const input = file('one.txt', 'item 1\n');
      const args =
        command === 'embed'
          ? ['embed', 'item 1', ...MODEL, '--base-url', server.baseURL]
          : ['bulk', input, '--out', file('one.jsonl'), ...MODEL, '--base-url', server.baseURL];
      const result = await runCli([...args, option, value]);
      expect(result.stderr).toBe(
        `embedkit: error: ${option} must be a decimal number > 0 (e.g. 30 or 0.5), got "${value}".\nRun "embedkit ${command} --help" for usage.\n`,
      );
      expect(result.code).toBe(2);
      expect(server.requests).toBe(requests);
    },
  );

  it('an --input-type the model lacks is not stored as the documents’ input type, so search asks for none (bug: stored as "document", and every search warned of a "query" type)', async () => {
    const input = file('typed.txt', 'item 1\nitem 2\n');
    const out = file('typed.ekx');
    const built = await runCli(indexArgs(server, input, out, ['--input-type', 'document', '--quiet']));
    expect(built.stderr).toBe(
      'warning: openai model text-embedding-3-small has no "document" input type; the inputs were sent without one.\n',
    );
    expect(readIndexFile(out).header).toMatchObject({ inputType: null, queryInputType: null });
    const result = await search(out, 'item 2', ['--top', '1']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('1\t1.0000\t2\titem 2\n');
  });

  it.each([
    ['a no-break space', '\u00a0'],
    ['a U+FEFF', '\ufeff'],
  ])(
    'embed sends a text of only %s, as bulk does (bug: refused as "a text is empty")',
    async (_name, text) => {
      const [requests, answered] = [server.requests, server.inputsAnswered];
      const result = await runCli([
        'embed',
        text,
        ...MODEL,
        '--dimensions',
        '8',
        '--base-url',
        server.baseURL,
        '--json',
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect([server.requests - requests, server.inputsAnswered - answered]).toEqual([1, 1]);
    },
  );

  describe('embed - reads stdin once, byte for byte', () => {
    it('bytes that are not UTF-8 are refused, nothing sent (bug: replaced by U+FFFD and sent)', async () => {
      const stdin = file('latin1.txt', Buffer.from('caf\xe9\n', 'latin1'));
      const requests = server.requests;
      const result = await runCli(['embed', '-', ...MODEL, '--base-url', server.baseURL], {
        stdinFile: stdin,
      });
      expect(result.stderr).toBe(
        'embedkit: error: stdin is not valid UTF-8; texts are sent byte for byte, so none is replaced. Convert it to UTF-8 first, e.g. (for Latin-1) pipe it through iconv -f latin1 -t utf-8.\n',
      );
      expect(result.code).toBe(1);
      expect(server.requests).toBe(requests);
    });

    it('- given twice is a usage error (bug: "stdin is empty", after the first had read it)', async () => {
      const result = await runCli(['embed', '-', '-', ...MODEL, '--base-url', server.baseURL], {
        stdin: 'item 1\n',
      });
      expect(result.stderr).toBe(
        'embedkit: error: - (stdin) can be given once: stdin is read once, as one text.\nRun "embedkit embed --help" for usage.\n',
      );
      expect(result.code).toBe(2);
    });
  });
});
