import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicBaseURL } from '../src/common.js';
import {
  BIN,
  FAKE_KEY,
  type FakeServer,
  PACKAGE_ROOT,
  runCli,
  startFakeOpenAI,
  temporaryDirectory,
} from './helpers.js';

// Each message the command prints for a common mistake, in its own words, with what to do next.

describe('the base URL', () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(() => server.close());

  it('advice to check the API root names --base-url and EMBEDKIT_BASE_URL, never a baseURL setting', async () => {
    // A gateway that answers with an error under a success status, as one in front of the wrong API does.
    const gateway = await startFakeOpenAI({
      intercept: () => ({ status: 200, body: { error: { message: 'upstream failed' } } }),
    });
    try {
      const result = await runCli([
        'embed',
        'hello',
        '--model',
        'openai:text-embedding-3-small',
        '--base-url',
        gateway.baseURL,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        'embedkit: error: openai answered status 200 with an error instead of embeddings: upstream failed — the API or a gateway in front of it reported a failure with a success status; check the message, and that --base-url (or EMBEDKIT_BASE_URL) points at the API. (HTTP 200)\n',
      );
    } finally {
      await gateway.close();
    }
  });

  it('--base-url that is not a URL is a usage error at once, before any request or retry', async () => {
    const result = await runCli([
      'embed',
      'hello',
      '--model',
      'openai:text-embedding-3-small',
      '--base-url',
      'not-a-url',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'embedkit: error: --base-url must be an absolute http(s) URL, e.g. http://localhost:8000/v1; got "not-a-url".\nRun "embedkit embed --help" for usage.\n',
    );
  });

  it("EMBEDKIT_BASE_URL with a user name and password is refused in the command's words, before any request, without the URL", async () => {
    const result = await runCli(['embed', 'hello', '--model', 'openai:text-embedding-3-small'], {
      env: { EMBEDKIT_BASE_URL: 'http://gateway:EnvPwSecret55@127.0.0.1:9/v1' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `embedkit: error: EMBEDKIT_BASE_URL holds a user name or password (user:password@), and credentials in the URL are not sent: remove them, and give the API key in the provider's key variable (or the one --api-key-env names).\nRun "embedkit embed --help" for usage.\n`,
    );
  });

  it('--base-url made invalid by a / in its password is refused without echoing the password', async () => {
    const result = await runCli([
      'embed',
      'hello',
      '--model',
      'openai:text-embedding-3-small',
      '--base-url',
      'http://u:CliPw+/Secret77@127.0.0.1:9/v1',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('; got "http://[REDACTED]@127.0.0.1:9/v1".');
    expect(result.stderr).not.toContain('CliPw');
    // No scheme://: nothing says where a password would start or end, so none of it is shown; a
    // credential in the query is hidden too.
    for (const [given, shown] of [
      ['user:S3cretPw@localhost:8000/v1', '[REDACTED]'],
      ['fn.example.net/api/v1?code=SECRETFUNCKEY123', 'fn.example.net/api/v1?code=…'],
    ]) {
      const bad = await runCli([
        'embed',
        'hello',
        '--model',
        'openai:text-embedding-3-small',
        '--base-url',
        given!,
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`; got "${shown}".`);
    }
  });

  it('EMBEDKIT_BASE_URL stands in for --base-url, and a malformed one is refused without echoing it', async () => {
    const before = server.requests;
    const ok = await runCli(
      ['embed', 'item 2', '--model', 'openai:text-embedding-3-small', '--dimensions', '2'],
      {
        env: { EMBEDKIT_BASE_URL: server.baseURL },
      },
    );
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('[2,8.625]\n');
    expect(server.requests).toBe(before + 1);
    const bad = await runCli(['embed', 'hello', '--model', 'openai:text-embedding-3-small'], {
      env: { EMBEDKIT_BASE_URL: 'sk-fake-test-key-pasted-by-mistake' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'embedkit: error: EMBEDKIT_BASE_URL is set but is not an absolute http(s) URL; set it to one, e.g. http://localhost:8000/v1, or unset it.\nRun "embedkit embed --help" for usage.\n',
    );
  });

  it("the provider's own variable (OPENAI_BASE_URL) is honoured when neither is given", async () => {
    const before = server.requests;
    const result = await runCli(
      ['embed', 'item 5', '--model', 'openai:text-embedding-3-small', '--dimensions', '2'],
      {
        env: { OPENAI_BASE_URL: server.baseURL, EMBEDKIT_BASE_URL: undefined },
      },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('[5,7.625]\n');
    expect(server.requests).toBe(before + 1);
  });

  it("a malformed value in the provider's own variable is a usage error (exit 2), reported before any request", async () => {
    const before = server.requests;
    const result = await runCli(
      ['embed', 'item 5', '--model', 'openai:text-embedding-3-small', '--dimensions', '2'],
      { env: { OPENAI_BASE_URL: 'api.openai.com/v1', EMBEDKIT_BASE_URL: undefined } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'embedkit: error: openai: the base URL from OPENAI_BASE_URL is not an absolute http(s) URL; it should look like https://api.example.com/v1.\nRun "embedkit --help" for usage.\n',
    );
    expect(server.requests).toBe(before);
  });

  it('an index stores it without credentials: no user, no password, no query parameter’s value', () => {
    expect(
      publicBaseURL('https://user:hunter2@gateway.example/v1?api-key=abc&region=eu&sig=s1&token=t'),
    ).toBe('https://gateway.example/v1?api-key=…&region=…&sig=…&token=…');
    expect(publicBaseURL('http://127.0.0.1:8000/v1')).toBe('http://127.0.0.1:8000/v1');
    // Azure Functions' code and an OAuth access_token are values like any other.
    expect(publicBaseURL('https://fn.example/api?code=S3CRET&access_token=t&api-version=1')).toBe(
      'https://fn.example/api?code=…&access_token=…&api-version=…',
    );
  });
});

describe('keys', () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeOpenAI();
  });
  afterAll(() => server.close());

  it('--api-key-env reads the key from the variable it names, for any provider', async () => {
    const result = await runCli(
      [
        'embed',
        'item 1',
        '--model',
        'openai:text-embedding-3-small',
        '--dimensions',
        '2',
        '--base-url',
        server.baseURL,
        '--api-key-env',
        'TEAM_OPENAI_KEY',
      ],
      { env: { OPENAI_API_KEY: undefined, TEAM_OPENAI_KEY: 'sk-fake-team-key-1' } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(server.authorizations.has('Bearer sk-fake-team-key-1')).toBe(true);
  });

  it('--api-key-env naming an unset variable says so, in the command’s words', async () => {
    const result = await runCli(
      [
        'embed',
        'hello',
        '--model',
        'openai:text-embedding-3-small',
        '--base-url',
        server.baseURL,
        '--api-key-env',
        'TEAM_OPENAI_KEY',
      ],
      { env: { TEAM_OPENAI_KEY: undefined } },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'embedkit: error: openai needs an API key: TEAM_OPENAI_KEY (named by --api-key-env) is not set.\n',
    );
    expect(result.stdout + result.stderr).not.toContain(FAKE_KEY);
  });

  it('a key pasted where the variable name goes is refused without being echoed (it was printed back)', async () => {
    const pasted = 'FAKE-keyPastedAsVarName-not-a-real-key';
    const result = await runCli([
      'embed',
      'hello',
      '--model',
      'openai:text-embedding-3-small',
      '--base-url',
      server.baseURL,
      '--api-key-env',
      pasted,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--api-key-env takes the name of the environment variable that holds the key',
    );
    expect(result.stdout + result.stderr).not.toContain('keyPasted');
    // A key made of a variable name's characters (Jina's are), unset as a variable: its name is not shown.
    const jinaLike = `jina_${'a1'.repeat(30)}`;
    const unset = await runCli(
      [
        'embed',
        'hello',
        '--model',
        'openai:text-embedding-3-small',
        '--base-url',
        server.baseURL,
        '--api-key-env',
        jinaLike,
      ],
      { env: { [jinaLike]: undefined } },
    );
    expect(unset.code).toBe(1);
    expect(unset.stderr).toBe(
      'embedkit: error: openai needs an API key: the variable (its name is not shown: it does not look like one, and may be the key itself) (named by --api-key-env) is not set.\n',
    );
    // 32 characters of a key that could be a variable's name (it was echoed: the limit was its length).
    const hexKey = 'abcdef0123456789abcdef0123456789';
    const hex = await runCli(
      [
        'embed',
        'hello',
        '--model',
        'openai:text-embedding-3-small',
        '--base-url',
        server.baseURL,
        '--api-key-env',
        hexKey,
      ],
      { env: { [hexKey]: undefined } },
    );
    expect(hex.code).toBe(1);
    expect(hex.stderr).not.toContain(hexKey);
  });
});

describe('typos', () => {
  it('an option typo suggests the option', async () => {
    const result = await runCli(['embed', 'hello', '--modle', 'openai:text-embedding-3-small']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'embedkit: error: Unknown option \'--modle\'; did you mean --model?\nRun "embedkit embed --help" for usage.\n',
    );
  });

  it('an option far from every known one is named without a guess; a missing value is named', async () => {
    const unknown = await runCli(['models', '--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'embedkit: error: Unknown option \'--frobnicate\'.\nRun "embedkit models --help" for usage.\n',
    );
    const missing = await runCli(['embed', 'hello', '--model']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'embedkit: error: --model needs a value.\nRun "embedkit embed --help" for usage.\n',
    );
  });

  it('a provider typo suggests the provider and its real package', async () => {
    const result = await runCli(['embed', 'hello', '--model', 'opnai:text-embedding-3-small']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'embedkit: error: There is no "opnai" provider. Did you mean "openai"? (npm install @embedkit/provider-openai)',
    );
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('stdin on a terminal', () => {
  // `script` (util-linux) runs the command on a pseudo-terminal, as a person typing would.
  it('bulk - says it is waiting for typed input instead of hanging silently', async (context) => {
    if (!hasScript) {
      context.skip('util-linux `script` is not installed: there is no pseudo-terminal to run the command on');
      return;
    }
    const directory = temporaryDirectory();
    try {
      const command = [
        process.execPath,
        BIN,
        'bulk',
        '-',
        '--model',
        'openai:text-embedding-3-small',
        '--out',
        join(directory.path, 'out.jsonl'),
      ]
        .map((part) => `'${part}'`)
        .join(' ');
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        cwd: PACKAGE_ROOT,
        env: { ...process.env, OPENAI_API_KEY: FAKE_KEY, NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      const note = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk;
          if (output.includes('Ctrl-D')) resolve(output);
        });
        child.on('error', reject);
        child.on('close', () => reject(new Error(`the command ended without the note: ${output}`)));
      });
      child.kill('SIGKILL');
      expect(note.replaceAll('\r', '')).toContain(
        'embedkit: reading input from stdin (this terminal): type or paste it, then press Ctrl-D. To embed a file, pass its path instead of -.\n',
      );
    } finally {
      directory.remove();
    }
  });

  it('reading a pipe prints no such note', async () => {
    const result = await runCli(['embed', '-', '--model', 'opnai:x'], { stdin: 'hello\n' });
    expect(result.stderr).not.toContain('Ctrl-D');
  });
});

describe('npx', () => {
  it('the package has exactly one command, so npx @embedkit/cli runs it (npm exec picks the only bin)', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ embedkit: './dist/bin.js' });
  });

  it('the READMEs say npx @embedkit/cli, never npx embedkit (that name is another package on the registry)', () => {
    for (const readme of [join(PACKAGE_ROOT, 'README.md'), join(PACKAGE_ROOT, '..', '..', 'README.md')]) {
      const text = readFileSync(readme, 'utf8');
      expect(text, readme).toContain('npx @embedkit/cli');
      expect(text, readme).not.toMatch(/npx embedkit\b/);
    }
  });
});
