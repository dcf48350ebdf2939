import type { Clock } from '@embedkit/core';

/** A clock whose sleeps return at once and are recorded (Retry-After is tested without sleeping). */
export function fakeClock(): Clock & { sleeps: number[] } {
  let now = Date.UTC(2026, 0, 1);
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms: number) {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
  };
}
