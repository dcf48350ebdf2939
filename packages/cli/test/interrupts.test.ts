import { afterEach, describe, expect, it, vi } from 'vitest';
import { Interrupts } from '../src/interrupts.js';

// The Ctrl-C and SIGTERM handling bulk and index share, driven in this process: its listener is called
// directly (emitting a signal on the test runner's own process would reach the runner's listeners too),
// and process.exit throws instead of exiting. The commands' tests run it for real.

type Listener = (signal: NodeJS.Signals) => void;

/** The SIGINT listeners now. */
function sigintListeners(): Listener[] {
  return process.listeners('SIGINT');
}

/** The listener `Interrupts` added to `before` for SIGINT and SIGTERM (one serves both). */
function addedListener(before: Listener[]): Listener {
  const added = sigintListeners().filter((listener) => !before.includes(listener));
  expect(added).toHaveLength(1);
  expect(process.listeners('SIGTERM')).toContain(added[0]);
  return added[0]!;
}

/** process.exit, stopped: it throws, as a real exit would not return. */
function stopExits() {
  return vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Error(`exit ${code}`);
  });
}

describe('Interrupts', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('a first %s aborts the run, which then exits %d; nothing exits yet', async (signal, code) => {
    const exit = stopExits();
    const interrupts = new Interrupts();
    const before = sigintListeners();
    await interrupts.during(async () => {
      expect(interrupts.signal.aborted).toBe(false);
      addedListener(before)(signal);
    });
    expect(interrupts.signal.aborted).toBe(true);
    expect(interrupts.exitCode).toBe(code);
    expect(exit).not.toHaveBeenCalled();
  });

  it('a second signal exits at once, with the first one’s code (bug: the second one’s)', async () => {
    const exit = stopExits();
    const interrupts = new Interrupts();
    const before = sigintListeners();
    await interrupts.during(async () => {
      const onSignal = addedListener(before);
      onSignal('SIGTERM');
      expect(() => onSignal('SIGINT')).toThrow('exit 143');
    });
    expect(exit.mock.calls).toEqual([[143]]);
    expect(interrupts.exitCode).toBe(143);
  });

  it('listens only while the run runs, whether it ends or fails (bug: a listener left behind keeps Ctrl-C from ending the process)', async () => {
    const counts = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const outside = counts();
    const interrupts = new Interrupts();
    expect(await interrupts.during(async () => counts())).toEqual([outside[0]! + 1, outside[1]! + 1]);
    expect(counts()).toEqual(outside);
    await expect(
      interrupts.during(async () => {
        throw new Error('the run failed');
      }),
    ).rejects.toThrow('the run failed');
    expect(counts()).toEqual(outside);
  });
});

describe('Interrupts.untilStopped', () => {
  /** A run under `interrupts`, its signal listener handed to `body`. */
  async function underSignals(interrupts: Interrupts, body: (onSignal: Listener) => Promise<void>) {
    const before = sigintListeners();
    await interrupts.during(() => body(addedListener(before)));
  }

  it('gives way to the first signal while the promise waits, with the signal’s reason, and forgets the promise', async () => {
    const interrupts = new Interrupts();
    await underSignals(interrupts, async (onSignal) => {
      let settle: (value: string) => void = () => {};
      const waiting = new Promise<string>((resolve) => {
        settle = resolve;
      });
      const raced = interrupts.untilStopped(waiting);
      expect(interrupts.waitingReads).toBe(1);
      onSignal('SIGINT');
      await expect(raced).rejects.toBe(interrupts.signal.reason);
      expect(interrupts.waitingReads).toBe(0);
      // The promise settling later changes nothing.
      settle('late');
      await expect(raced).rejects.toBe(interrupts.signal.reason);
    });
  });

  it('passes a value or a failure on as it is, and holds no read once settled', async () => {
    const interrupts = new Interrupts();
    await expect(interrupts.untilStopped(Promise.resolve(7))).resolves.toBe(7);
    const failure = new Error('read failed');
    await expect(interrupts.untilStopped(Promise.reject(failure))).rejects.toBe(failure);
    expect(interrupts.waitingReads).toBe(0);
  });

  it('refuses at once once the first signal has come', async () => {
    const interrupts = new Interrupts();
    await underSignals(interrupts, async (onSignal) => {
      onSignal('SIGTERM');
      await expect(interrupts.untilStopped(new Promise(() => {}))).rejects.toBe(interrupts.signal.reason);
    });
  });
});
