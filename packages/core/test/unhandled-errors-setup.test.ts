/**
 * The setup every core test runs under (vitest.unhandled-errors.ts at the repository root): a rejection
 * nobody handles, or an exception thrown where nobody can catch it, fails the test that was running, by
 * name, with its message and stack, and one reported outside any test fails the file's run. A separate
 * vitest run of fixtures/unhandled-errors shows it, with the leaks and without them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const fixtures = join(import.meta.dirname, 'fixtures', 'unhandled-errors');
const vitestBin = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

interface Report {
  success: boolean;
  testResults: {
    status: string;
    message: string;
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
}

/** Runs the fixture with or without its leaks; its exit code, JSON report and output. */
function runFixture(leak: boolean) {
  const directory = mkdtempSync(join(tmpdir(), 'unhandled-errors-'));
  try {
    const outputFile = join(directory, 'report.json');
    const run = spawnSync(
      process.execPath,
      [
        vitestBin,
        'run',
        '--config',
        join(fixtures, 'vitest.config.mjs'),
        // Loaded in place: the default loader writes the bundled config beside it.
        '--configLoader=runner',
        '--reporter=json',
        `--outputFile=${outputFile}`,
      ],
      {
        cwd: fixtures,
        encoding: 'utf8',
        env: {
          ...process.env,
          EMBEDKIT_FIXTURE_LEAK: leak ? '1' : '0',
          EMBEDKIT_FIXTURE_CACHE_DIR: join(directory, 'cache'),
          NO_COLOR: '1',
          FORCE_COLOR: '0',
        },
      },
    );
    const report = JSON.parse(readFileSync(outputFile, 'utf8')) as Report;
    return { status: run.status, report, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const LEAKY = 'work that leaks a promise rejected and never handled';
const FAKE_TIMERS = 'work that leaks an exception thrown from a callback while fake timers are on';
const ON_PURPOSE = 'work that leaks a rejection the test provokes on purpose and listens for is its own';

describe('the unhandled-errors setup', () => {
  it('fails each leaking test by name with what leaked, the file for a leak outside tests, and nothing else', () => {
    const { status, report, output } = runFixture(true);
    expect(status).toBe(1);
    const [file] = report.testResults;
    const results = Object.fromEntries(file!.assertionResults.map((result) => [result.fullName, result]));
    expect(
      Object.fromEntries(Object.entries(results).map(([name, result]) => [name, result.status])),
    ).toEqual({
      'work that leaks a clean test before the leaks': 'passed',
      [LEAKY]: 'failed',
      [FAKE_TIMERS]: 'failed',
      [ON_PURPOSE]: 'passed',
      'work that leaks a clean test after the leaks': 'passed',
    });

    const [leaky] = results[LEAKY]!.failureMessages;
    expect(leaky).toMatch(
      /^Error: an unhandled rejection while "work that leaks > a promise rejected and never handled" ran:\nan unhandled rejection: Error: rejected on purpose by the fixture, and never handled\n {4}at .*leaks\.fixture\.ts:\d+:\d+/,
    );

    // Both of what the test under fake timers leaked, each with its stack.
    const [faked] = results[FAKE_TIMERS]!.failureMessages;
    expect(faked).toMatch(
      /^Error: 2 unhandled errors while "work that leaks > an exception thrown from a callback while fake timers are on" ran:\n/,
    );
    expect(faked).toMatch(
      /\nan unhandled rejection: Error: rejected from a faked timer\n {4}at .*leaks\.fixture\.ts:\d+:\d+/,
    );
    expect(faked).toMatch(
      /\nan uncaught exception: Error: thrown on purpose outside the test, where nobody can catch it\n {4}at .*leaks\.fixture\.ts:\d+:\d+/,
    );

    // The rejection while no test ran fails the file's run.
    expect(file!.status).toBe('failed');
    expect(file!.message).toContain('an unhandled rejection while no test ran (in the hooks of ');
    expect(file!.message).toContain('an unhandled rejection: Error: rejected on purpose while no test ran');
    // Nothing was left to vitest's own report, which names no test.
    expect(output).not.toContain('Unhandled Rejection');
    expect(output).not.toContain('Uncaught Exception');
  });

  it('passes the same tests once the leaks are gone', () => {
    const { status, report, output } = runFixture(false);
    expect(output).not.toContain('Unhandled');
    expect(report.success).toBe(true);
    expect(report.testResults[0]!.assertionResults.map((result) => result.status)).toEqual([
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
    ]);
    expect(status).toBe(0);
  });
});
