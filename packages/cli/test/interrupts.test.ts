import { afterEach, describe, expect, it, vi } from 'vitest';
import { Interrupts, untilAborted } from '../src/interrupts.js';

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

describe('untilAborted', () => {
  it('gives way to an abort while the promise waits, with the abort’s reason, and forgets the promise', async () => {
    const controller = new AbortController();
    let settle: (value: string) => void = () => {};
    const waiting = new Promise<string>((resolve) => {
      settle = resolve;
    });
    const raced = untilAborted(waiting, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(raced).rejects.toBe(reason);
    // The promise settling later changes nothing.
    settle('late');
    await expect(raced).rejects.toBe(reason);
  });

  it('passes a value or a failure on as it is, and stops listening once settled', async () => {
    const controller = new AbortController();
    const listeners = vi.spyOn(controller.signal, 'removeEventListener');
    await expect(untilAborted(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    const failure = new Error('read failed');
    await expect(untilAborted(Promise.reject(failure), controller.signal)).rejects.toBe(failure);
    expect(listeners).toHaveBeenCalledTimes(2);
  });

  it('refuses at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('already');
    controller.abort(reason);
    await expect(untilAborted(new Promise(() => {}), controller.signal)).rejects.toBe(reason);
  });
});
