/**
 * The adaptive pace (`AdaptivePace` in limiter.ts) and the header reading, driven straight through a
 * limiter's `acquire` and its permits on a virtual clock, so that every turn is exact. Each case pins down
 * one rule of the comment above `AdaptivePace` (or of `readLimit`) that the job-level tests in
 * limiter-learning.test.ts leave loose: the exact start of each attempt, and which were refused.
 */
import { describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimiterOptions } from '../src/engine/limiter.js';
import { VirtualClock } from './helpers.js';

interface PacedJob {
  /** How many calls the job makes (a refused call is retried until it goes through). */
  calls: number;
  /** Tokens of each call (by the counter's estimate); 1 when not given. */
  tokens?: readonly number[];
  /** Attempts (1-based, in the order they started) the API refuses with a 429, and the wait it asks. */
  refuse?: Readonly<Record<number, number>>;
  /** A pause of the caller before call `n` (0-based) asks the limiter for its turn. */
  idleBefore?: Readonly<Record<number, number>>;
  /** The time before which call `n` (0-based) does not ask for its turn. */
  startAt?: readonly number[];
  /** How long an answered call takes. */
  latencyMs?: number;
  concurrency?: number;
  options?: RateLimiterOptions;
}

/**
 * Runs `job` on a fresh limiter and returns when each attempt started (to the microsecond), with an `R`
 * after those the API refused. The API reports no usage and sends no headers: only the 429s teach the pace.
 */
async function paced(job: PacedJob): Promise<string[]> {
  const clock = new VirtualClock({ random: [0.5] });
  const limiter = createRateLimiter(job.options);
  const starts: string[] = [];
  let attempts = 0;
  let next = 0;
  const worker = async () => {
    for (let call = next++; call < job.calls; call = next++) {
      const idle = job.idleBefore?.[call];
      if (idle !== undefined) await clock.sleep(idle);
      const startAt = job.startAt?.[call];
      if (startAt !== undefined && startAt > clock.now()) await clock.sleep(startAt - clock.now());
      const tokens = job.tokens?.[call] ?? 1;
      for (;;) {
        const permit = await limiter.acquire({ tokens, clock });
        const attempt = ++attempts;
        const at = Math.round(clock.now() * 1_000) / 1_000;
        const waitMs = job.refuse?.[attempt];
        if (waitMs !== undefined) {
          starts.push(`${at}R`);
          await permit.failed({ rateLimited: true, waitMs });
          continue;
        }
        if (job.latencyMs !== undefined) await clock.sleep(job.latencyMs);
        starts.push(String(at));
        await permit.answered({ reportedTokens: undefined, headers: {} });
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency ?? 1 }, worker));
  return starts;
}

/** Calls 1 to `count` wait a second each: one call a second from 0. */
const oneASecond = (count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [index + 1, 1_000]));

describe('the x-ratelimit-* headers, read exactly', () => {
  /** When three calls, one at a time, start while every answer carries `headers`. */
  async function startsUnder(headers: Record<string, string>): Promise<number[]> {
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ adaptive: false });
    const starts: number[] = [];
    for (let call = 0; call < 3; call++) {
      const permit = await limiter.acquire({ tokens: 1, clock });
      starts.push(clock.now());
      await permit.answered({ reportedTokens: undefined, headers });
    }
    return starts;
  }

  it('a stated limit of 0 is no limit: the most ever remaining bounds the budget instead', async () => {
    // Pins `limit > 0` in readLimit: a limit of 0 read as stated left no bucket at all (three calls at
    // once); read as unstated, "1 remaining" makes a bucket of one a minute.
    expect(
      await startsUnder({
        'x-ratelimit-limit-requests': '0',
        'x-ratelimit-remaining-requests': '1',
      }),
    ).toEqual([0, 0, 60_000]);
  });

  it('the token limit is read from x-ratelimit-limit-tokens, not from the requests header', async () => {
    // Pins the header name per kind: 60 tokens a minute, none left, so each 1-token call waits a second.
    // Read from the requests header (absent here, or 6,000 beside it), the bucket was none, or 6,000 a
    // minute.
    expect(
      await startsUnder({
        'x-ratelimit-limit-tokens': '60',
        'x-ratelimit-remaining-tokens': '0',
      }),
    ).toEqual([0, 1_000, 2_000]);
    expect(
      await startsUnder({
        'x-ratelimit-limit-requests': '6000',
        'x-ratelimit-remaining-requests': '6000',
        'x-ratelimit-limit-tokens': '60',
        'x-ratelimit-remaining-tokens': '0',
      }),
    ).toEqual([0, 1_000, 2_000]);
  });
});

describe('the first guess', () => {
  it('ten calls through make a minute’s allowance: over the minute plus the time since the first call', async () => {
    // Ten 10-token calls a second apart, the eleventh refused (1 s): 100 tokens over 60 s + 10 s, one
    // call each 7 s, growing 2% a call. Pins MIN_EVIDENCE_CALLS = 10 with `>=`, the 60 s + `since`
    // denominator, and the 2% growth.
    const starts = await paced({
      calls: 15,
      tokens: Array(15).fill(10),
      idleBefore: oneASecond(10),
      refuse: { 11: 1_000 },
    });
    expect(starts.slice(10)).toEqual(['10000R', '11000', '18000', '24862.745', '31590.927', '38187.183']);
  });

  it('nine calls through are too few: the refused call’s wait is the guess, and it doubles', async () => {
    // The same with nine calls before the 429: one call a second (the wait asked), doubled once the wait
    // is over, so the next goes half a second later. Pins the `>= 10` threshold from below.
    const starts = await paced({
      calls: 14,
      idleBefore: oneASecond(9),
      refuse: { 10: 1_000 },
    });
    expect(starts.slice(9)).toEqual(['9000R', '10000', '10500', '10990.196', '11470.78', '11470.78']);
  });

  it('a turn never comes more than a minute after the last, however slow the allowance read', async () => {
    // Ten calls a minute apart, then a 429: a minute's allowance of ten calls over eleven minutes, one
    // call each 66 s. The turn is capped at 60 s (MAX_PACE_SPACING_MS); uncapped, calls went 66 s, then
    // 64.7 s apart.
    const starts = await paced({
      calls: 14,
      idleBefore: Object.fromEntries(Array.from({ length: 10 }, (_, index) => [index + 1, 60_000])),
      refuse: { 11: 1 },
    });
    expect(starts.slice(10)).toEqual(['600000R', '600001', '660001', '720001', '780001']);
  });

  it('a doubling guess doubles once for every whole second since the 429, counted on its own clock', async () => {
    // One call, a 429 asking 1 s, the retry at 1 s, then the caller is idle for 2.5 s. At 3.5 s the
    // guess has doubled three times (not once per catch-up) and its next doubling is due at 4 s (not
    // 4.5 s: the half second already gone counts). Pins `2 ** Math.min(seconds, 40)` and
    // `doubledAt += seconds * 1 s`.
    const starts = await paced({
      calls: 14,
      idleBefore: { 2: 2_500 },
      refuse: { 2: 1_000 },
    });
    expect(starts).toEqual([
      '0',
      '0R',
      '1000',
      '3500',
      '3500',
      '3620.146',
      '3737.936',
      '3853.417',
      '3966.633',
      '4077.63',
      '4077.63',
      '4130.973',
      '4183.27',
      '4234.542',
      '4284.808',
    ]);
  });
});

describe('measures', () => {
  /** Ten 10-token calls a second apart, then the calls `after` (their tokens), refused as `refuse` says. */
  const measured = (after: readonly number[], refuse: Record<number, number>, idleBefore = {}) =>
    paced({
      calls: 10 + after.length,
      tokens: [...Array(10).fill(10), ...after],
      idleBefore: { ...oneASecond(10), ...idleBefore },
      refuse,
    });
  /** Four more 10-token calls, then ones of 1 and 100 tokens in turn. */
  const mixed = [10, 10, 10, 10, ...Array.from({ length: 20 }, (_, index) => (index % 2 === 1 ? 100 : 1))];

  it('the first measure replaces the guess less 5%, in tokens and in calls; a later 429 keeps 90% of its measure', async () => {
    // After the minute's-allowance guess (attempt 11), attempt 15 measures: 3 calls of 10 tokens over
    // 20.59 s since calls could go again, less 5%. The 1-token calls after it go by the token reading, the
    // 100-token calls by the call reading, growing 0.1% a call. Attempt 24 measures again: the pace is
    // lowered, but never below 90% of what that measure read. Pins `measured * 0.95`,
    // `measuredCalls * 0.95`, and the `measured * 0.9` floors of both readings.
    const starts = await measured(mixed, { 11: 1_000, 15: 1_000, 24: 1_000 });
    expect(starts.slice(10)).toEqual([
      '10000R',
      '11000',
      '18000',
      '24862.745',
      '31590.927R',
      '38187.183',
      '45412.069',
      '46133.836',
      '53344.295',
      '54064.62',
      '61260.679',
      '61979.566',
      '69161.255',
      '69878.706R',
      '77046.053',
      '82993.397',
      '83183.384',
      '89118.851',
      '89308.458',
      '95232.072',
      '95421.301',
      '101333.085',
      '101521.936',
      '107421.915',
      '107610.389',
      '113498.585',
      '113686.682',
    ]);
  });

  it('a later 429 after an idle minute lowers the pace by 15% (the measure, diluted by the idle time, is lower)', async () => {
    // As above, with only 10-token calls until attempt 24, and the caller idle for a minute before
    // call 20: what the API took since it ran dry, over that time, is then well below the pace, and the
    // pace comes down 15% in tokens and in calls. Pins `rate * 0.85` and `callRate * 0.85`.
    const starts = await measured(
      [...Array(14).fill(10), ...Array.from({ length: 10 }, (_, index) => (index % 2 === 1 ? 100 : 1))],
      { 11: 1_000, 15: 1_000, 24: 1_000 },
      { 20: 60_000 },
    );
    expect(starts.slice(20)).toEqual([
      '74239.511',
      '81428.381',
      '141428.381',
      '141428.381R',
      '148595.728',
      '157027.9',
      '165451.649',
      '173866.982',
      '174707.675',
      '183106.203',
      '183945.217',
      '192326.973',
      '193164.311',
      '201529.329',
      '202364.995',
      '210713.308',
      '211547.305',
    ]);
  });
});

describe('turns', () => {
  it('at most one turn is banked from idle time', async () => {
    // The minute's-allowance guess of the first test (a call each 7 s), then the caller idle for 30 s:
    // two calls go at once when it comes back (the turn due and one banked), the third waits its turn.
    // Pins `slotAt = max(due, now - spacing)`: with every idle turn banked, or two, more went at once.
    const starts = await paced({
      calls: 17,
      tokens: Array(17).fill(10),
      idleBefore: { ...oneASecond(10), 12: 30_000 },
      refuse: { 11: 1_000 },
    });
    expect(starts.slice(10)).toEqual([
      '10000R',
      '11000',
      '18000',
      '48000',
      '48000',
      '54596.256',
      '61063.174',
      '67403.29',
    ]);
  });
});

describe('which 429s measure', () => {
  /**
   * Ten 1,000-token calls at once (a minute's allowance of 10,000 tokens: a 1-token call each 6 ms), the
   * eleventh (1 token) refused for 1 s, then 1-token calls at the times given (tenths of a second).
   */
  const startAt = [
    ...Array(11).fill(0),
    1_100,
    1_200,
    1_300,
    1_400,
    1_500,
    1_600,
    1_700,
    1_800,
    1_900,
    2_000,
    2_200,
    2_400,
    2_600,
    2_800,
    3_000,
  ];
  const job = (refuse: Record<number, number>) =>
    paced({
      calls: 40,
      tokens: [...Array(10).fill(1_000), ...Array(30).fill(1)],
      startAt,
      refuse,
    });

  it('a 429 exactly a second after calls could go again, and one exactly a second after the measure, both measure', async () => {
    // Calls could go again at 1 s; the 429 at 2 s measures (ten calls in that second), the one at 3 s
    // lowers the pace again. Pins `now - dryAt < 1 s` and `now - loweredAt < 1 s` as strict: at `<=`
    // either 429 was ignored and the pace after 3 s ran faster or slower.
    expect((await job({ 11: 1_000, 22: 25, 28: 25 })).slice(11)).toEqual([
      '1000',
      '1100',
      '1200',
      '1300',
      '1400',
      '1500',
      '1600',
      '1700',
      '1800',
      '1900',
      '2000R',
      '2025',
      '2200',
      '2400',
      '2600',
      '2800',
      '3000R',
      '3025',
      '3148.222',
      '3271.32',
      '3394.296',
      '3517.149',
      '3639.879',
      '3762.486',
      '3884.971',
      '4007.333',
      '4129.574',
      '4251.692',
      '4373.688',
      '4495.562',
      '4617.315',
      '4738.946',
    ]);
  });

  it('a 429 within a second of a measure does not lower the pace again', async () => {
    // The retry of the 429 at 2 s is refused too, 25 ms later: one burst, counted once. Pins
    // `loweredAt = now` at a measure, and the `now - loweredAt` check itself: without either, the second
    // 429 lowered the pace once more.
    expect((await job({ 11: 1_000, 22: 25, 23: 25 })).slice(11)).toEqual([
      '1000',
      '1100',
      '1200',
      '1300',
      '1400',
      '1500',
      '1600',
      '1700',
      '1800',
      '1900',
      '2000R',
      '2025R',
      '2130.263',
      '2235.526',
      '2400',
      '2600',
      '2800',
      '3000',
      '3000',
      '3104.634',
      '3209.163',
      '3313.588',
      '3417.908',
      '3522.125',
      '3626.237',
      '3730.245',
      '3834.149',
      '3937.95',
      '4041.647',
      '4145.24',
      '4248.729',
      '4352.116',
    ]);
  });

  it('two 429s back to back while the guess doubles are a stumble when the API took nine tenths of what was booked', async () => {
    // A doubling guess from a 1 s wait, then attempts 11 and 12 refused back to back. Since calls could go
    // again the pace booked 10 calls (the two refused among them) and the API took 8: 8 + 1 is exactly
    // nine tenths of 10, so the 429s read as a stumble and the guess goes on doubling. Pins `>=` in
    // `accepted + tokens >= allowed * 0.9`: at `>` they measured the API at the guess's own pace.
    expect(await paced({ calls: 25, refuse: { 2: 1_000, 11: 25, 12: 25 } })).toEqual([
      '0',
      '0R',
      '1000',
      '1500',
      '1990.196',
      '2470.78',
      '2470.78',
      '2701.742',
      '2928.175',
      '3150.167',
      '3150.167R',
      '3256.854R',
      '3363.54',
      '3470.226',
      '3574.821',
      '3677.364',
      '3777.897',
      '3876.459',
      '3973.088',
      '4067.822',
      '4067.822',
      '4113.35',
      '4157.985',
      '4201.745',
      '4244.647',
      '4286.708',
      '4327.944',
      '4368.371',
    ]);
  });
});

describe('under a budget set by the user, the stumble judgement counts the guess’s allowance exactly', () => {
  /**
   * A budget that never binds, one call, a 429 asking 1 s (a doubling guess of one token a second, which
   * does not pace under a budget), 1-token calls at `at`, then one of `tokens` refused twice back to back at
   * `refusedAt`. What the API took (plus that call) is set against nine tenths of what the guess allowed
   * since calls could go again, counted as its rate grew 2% a call and doubled each second: a stumble leaves
   * the calls after it unpaced, a measure paces them.
   */
  const judged = (at: number[], refusedAt: number, tokens: number, latencyMs?: number) =>
    paced({
      ...(latencyMs === undefined ? {} : { latencyMs }),
      calls: at.length + 7,
      startAt: [0, 0, ...at, refusedAt],
      tokens: [...Array(at.length + 2).fill(1), tokens, 1, 1, 1, 1],
      refuse: { 2: 1_000, [at.length + 4]: 25, [at.length + 5]: 25 },
      options: { tokensPerMinute: 1e9 },
    });

  it('3 tokens taken and a 3-token call against 6.54 allowed: a stumble', async () => {
    // Pins the allowance's reset to when calls could go again (`allowedAt = dryAt`), its accrual before
    // each doubling (catchUp) and `allowedAt = now` after each accrual: each mutation counts more allowed,
    // and the 429s measure a rate that then paces the calls.
    expect(await judged([1_000, 2_000], 3_000, 3)).toEqual([
      '0',
      '0R',
      '1000',
      '1000',
      '2000',
      '3000R',
      '3025R',
      '3050',
      '3050',
      '3050',
      '3050',
      '3050',
    ]);
  });

  it('9 tokens taken and a 23-token call against 35.46 allowed: a stumble, by a hair', async () => {
    // Pins the accrual before each 2% growth (in `passed`): counted after it, the allowance comes out
    // larger and the 429s measure.
    expect(await judged([1_000, 1_500, 2_000, 2_500, 3_000, 3_500, 4_000, 4_500], 5_000, 23)).toEqual([
      '0',
      '0R',
      '1000',
      '1000',
      '1500',
      '2000',
      '2500',
      '3000',
      '3500',
      '4000',
      '4500',
      '5000R',
      '5025R',
      '5050',
      '5050',
      '5050',
      '5050',
      '5050',
    ]);
  });

  it('7 tokens taken and a 1-token call against 10.43 allowed: a measure, which paces', async () => {
    // Pins the accrual up to the 429 itself (in `refused`): without it the allowance stops at the last
    // call through and the 429s read as a stumble, leaving the calls after them unpaced.
    expect(await judged([1_000, 1_417, 1_833, 2_250, 2_667, 3_083], 3_500, 1)).toEqual([
      '0',
      '0R',
      '1000',
      '1000',
      '1417',
      '1833',
      '2250',
      '2667',
      '3083',
      '3500R',
      '3525R',
      '3550',
      '3929.699',
      '4309.019',
      '4687.96',
      '5066.523',
    ]);
  });
  it('calls of 300 ms: the guess doubles when a call ends, and what it allowed counts from then at the new rate', async () => {
    // The first call ends at 300 ms and the second is refused then (1 s); the retry goes at 1.3 s, more calls
    // at 1.6 s and 2 s, and a 1-token call at 3 s is refused twice. The calls that end past a whole second
    // double the guess as they end (in `passed`), so the allowance counts the time after at the doubled
    // rate: 3 taken + 1 is under nine tenths of it, and the 429s measure. Pins the `catchUp` in `passed`:
    // without it the doubling waited for the next call's turn, the allowance came out smaller, and the
    // 429s read as a stumble (the calls after them went unpaced, 300 ms apart).
    expect(await judged([1_000, 2_000], 3_000, 1, 300)).toEqual([
      '0',
      '300R',
      '1300',
      '1600',
      '2000',
      '3000R',
      '3025R',
      '3050',
      '3655.263',
      '4259.922',
      '4863.976',
      '5467.427',
    ]);
  });
  it('a call that ends during the first wait adds nothing to the allowance, which counts from when calls could go again', async () => {
    // Three at a time, 1.5 s each: the second call is refused at 0 asking 2.5 s while the first is in
    // flight; it ends at 1.5 s, inside the wait (growing the guess 2% and doubling it). Then calls at 2.5 s,
    // 3 s and 4 s, and two 429s back to back at 4 s and 4.025 s: 3 taken + 1 against 4.25 allowed since
    // 2.5 s, a stumble, so nothing is paced after. Both ask 25 ms and the first comes with no call held by a
    // pause, so the calls they hold go 25 ms apart and the others as soon as a call ends (released at a
    // longer pause's spacing, they went about as far apart as a pace would, and hid it). Pins
    // `now <= allowedAt` in `accrue`: without it the call that ended inside the wait counted that stretch
    // negatively at the old rate and positively at the new one (4.67 allowed), and the 429s measured a pace
    // of 535 ms that spread the calls after them out from 4.05 s on.
    expect(
      await paced({
        calls: 12,
        startAt: [0, 0, 2_500, 3_000, 4_000],
        latencyMs: 1_500,
        concurrency: 3,
        refuse: { 2: 2_500, 6: 25, 7: 25 },
        options: { tokensPerMinute: 1e9 },
      }),
    ).toEqual([
      '0R',
      '0',
      '2500',
      '4000R',
      '2500',
      '4025R',
      '3000',
      '4050',
      '4075',
      '4500',
      '5550',
      '5575',
      '6000',
      '7050',
      '7075',
    ]);
  });
});

describe('guesses that go on unrefused', () => {
  it('a measure held as a guess doubles after 20 quiet calls, is dropped after 60, and the next 429 is read afresh', async () => {
    // One call, a 429 asking 1 s (a doubling guess), five calls, then attempts 8 and 9 refused back to
    // back: measured from five calls at the guess's own pace, the measure is held as a guess. Twenty calls
    // later it starts doubling on its own clock (from then, not from the first 429); sixty quiet calls
    // after the 429s it is dropped, so attempt 75 is read as a first 429 (a minute's allowance of the 74
    // calls through, paced from 13.7 s on), and that guess in turn is dropped after twenty quiet calls
    // (attempt 97 is read afresh again). Pins QUIET_CALLS = 20 (`>=`), QUIET_CALLS_DOUBLING = 60 (`>=`),
    // `doubledAt = now` when the held measure starts doubling, and `tentative = false` at a first 429.
    expect(
      await paced({
        calls: 110,
        refuse: { 2: 1_000, 8: 25, 9: 25, 75: 1_000, 97: 25 },
      }),
    ).toEqual([
      '0',
      '0R',
      '1000',
      '1500',
      '1990.196',
      '2470.78',
      '2470.78',
      '2701.742R',
      '2928.175R',
      '3154.607',
      '3560.539',
      '3958.511',
      '4348.679',
      '4731.198',
      '5106.216',
      '5473.88',
      '5834.336',
      '6187.724',
      '6534.182',
      '6873.848',
      '7206.853',
      '7533.328',
      '7853.403',
      '8167.201',
      '8474.846',
      '8776.459',
      '9072.158',
      '9362.059',
      '9646.276',
      '9924.92',
      '10198.1',
      '10465.924',
      '10728.496',
      '10728.496',
      '10854.685',
      '10978.398',
      '11099.687',
      '11218.596',
      '11335.175',
      '11449.467',
      '11561.519',
      '11671.373',
      '11671.373',
      '11724.167',
      '11775.927',
      '11826.671',
      '11876.42',
      '11925.194',
      '11973.011',
      '12019.891',
      '12065.852',
      '12110.911',
      '12155.087',
      '12198.397',
      '12240.857',
      '12282.485',
      '12323.297',
      '12363.308',
      '12402.535',
      '12440.993',
      '12478.697',
      '12515.661',
      '12551.901',
      '12587.43',
      '12622.262',
      '12656.412',
      '12656.412',
      '12672.824',
      '12688.913',
      '12688.913',
      '12688.913',
      '12688.913',
      '12688.913',
      '12688.913',
      '12688.913R',
      '13688.913',
      '14712.701',
      '15716.414',
      '16700.447',
      '17665.185',
      '18611.006',
      '19538.282',
      '20447.376',
      '21338.645',
      '22212.437',
      '23069.097',
      '23908.959',
      '24732.354',
      '25539.603',
      '26331.024',
      '27106.927',
      '27867.616',
      '28613.39',
      '29344.541',
      '30061.355',
      '30061.355',
      '30061.355R',
      '30764.115',
      '31743.042',
      '32702.775',
      '33643.69',
      '34566.156',
      '35470.534',
      '36357.179',
      '37226.439',
      '38078.654',
      '38914.16',
      '39733.283',
      '40536.344',
      '41323.66',
      '42095.538',
      '42852.281',
      '43594.185',
      '44321.543',
      '45034.639',
    ]);
  });

  it('a first 429 read afresh counts its calls since it alone: one call through is no measure', async () => {
    // As above up to attempt 75 (a minute's-allowance guess read afresh); its retry goes through, then
    // after a second of idle attempt 77 is refused: one call since the budget ran dry, no rate. Pins
    // `callsSinceDry = 0` at a first 429: counted from the dropped guess on, the 429 measured one call.
    const starts = await paced({
      calls: 90,
      refuse: { 2: 1_000, 8: 25, 9: 25, 75: 1_000, 77: 25 },
      idleBefore: { 73: 1_000 },
    });
    expect(starts.slice(70)).toEqual([
      '12688.913',
      '12688.913',
      '12688.913',
      '12688.913',
      '12688.913R',
      '13688.913',
      '14712.701R',
      '15716.414',
      '16720.127',
      '17704.16',
      '18668.898',
      '19614.719',
      '20541.995',
      '21451.089',
      '22342.358',
      '23216.151',
      '24072.81',
      '24912.673',
      '25736.067',
      '26543.316',
      '27334.737',
      '28110.64',
      '28871.33',
      '29617.103',
      '30348.254',
    ]);
  });

  it('a turn booked at a slow held measure comes sooner by every doubling since, when it is next asked for', async () => {
    // A doubling guess from a 1 s wait, calls 10 s apart, then two 429s back to back at 41 s: a measure from
    // four calls, held as a guess (a call each 10.5 s). Twenty quiet calls later (at 209.5 s) it starts
    // doubling, and the next call's turn is booked 7.2 s on; the caller asks 2.1 s later. Two doublings have
    // gone by, so the turn comes at a quarter of the spacing (1.8 s): past, the call goes at once. Pins the
    // division by the whole doubling factor in `catchUp`: divided by 2, the call waited until 213.1 s.
    expect(
      await paced({
        calls: 30,
        startAt: [0, 0, 11_000, 21_000, 31_000, 41_000],
        idleBefore: { 25: 2_100 },
        refuse: { 2: 1_000, 7: 25, 8: 25 },
      }),
    ).toEqual([
      '0',
      '0R',
      '1000',
      '11000',
      '21000',
      '31000',
      '41000R',
      '41025R',
      '41050',
      '51582.895',
      '61909.262',
      '72033.152',
      '81958.534',
      '91689.3',
      '101229.268',
      '110582.177',
      '119751.695',
      '128741.42',
      '137554.875',
      '146195.517',
      '154666.735',
      '162971.851',
      '171114.121',
      '179096.739',
      '186922.835',
      '194595.478',
      '202117.677',
      '209492.382',
      '211592.382',
      '213071.992',
      '213071.992',
      '213923.628',
      '213923.628',
    ]);
  });
});

describe('back to back, in flight, and the wait asked', () => {
  it('while the guess doubles, a 429 two quiet calls after the last one is not back to back: no measure', async () => {
    // A doubling guess from a 1 s wait; attempts 6 and 9 refused with two calls through between them. Only a
    // 429 within one call of the last confirms a budget: this one is ignored and the guess keeps doubling.
    // Pins `sinceRefusal <= 1`: at `<= 2` it measured, and the calls after it crawled.
    expect(await paced({ calls: 20, refuse: { 2: 1_000, 6: 25, 9: 25 } })).toEqual([
      '0',
      '0R',
      '1000',
      '1500',
      '1990.196',
      '2470.78R',
      '2495.78',
      '2731.361',
      '2962.322R',
      '3188.755',
      '3188.755',
      '3299.752',
      '3408.572',
      '3515.258',
      '3619.852',
      '3722.396',
      '3822.929',
      '3921.49',
      '4018.119',
      '4018.119',
      '4064.558',
      '4110.086',
      '4154.721',
    ]);
  });

  it('a measure from exactly ten calls at the doubling guess’s pace is a measure, not a guess', async () => {
    // A doubling guess from a 1 s wait, ten calls through, then three 429s in a row: the third measures
    // (10 taken + 1 is under nine tenths of the 13 booked), from ten calls, so it is final and grows 0.1% a
    // call. Pins `callsSinceDry < 10` for a measure held as a guess: at `<= 10` it grew 2% a call.
    expect(await paced({ calls: 25, refuse: { 2: 1_000, 13: 25, 14: 25, 15: 25 } })).toEqual([
      '0',
      '0R',
      '1000',
      '1500',
      '1990.196',
      '2470.78',
      '2470.78',
      '2701.742',
      '2928.175',
      '3150.167',
      '3150.167',
      '3256.854',
      '3361.448R',
      '3463.992R',
      '3566.535R',
      '3669.079',
      '3939.24',
      '4209.132',
      '4478.754',
      '4748.107',
      '5017.19',
      '5286.005',
      '5554.552',
      '5822.83',
      '6090.84',
      '6358.582',
      '6626.057',
      '6893.264',
      '7160.205',
    ]);
  });

  it('two calls refused at once, asking 3 s and then 1 s: no call starts before 3 s, and the pace keeps the longer wait', async () => {
    // Pins `notBefore = max(notBefore, now + wait)`: overwritten by the shorter wait, the pace let the second
    // call book its turn at 1 s, and it went at 3 s together with the first instead of 375 ms after it.
    // The second call's retry, held by the 3 s pause, goes 2 s after the first call's (at 5 s, the last
    // start), as it does when the 1 s refusal comes first; the 1 s pause ends within the 3 s one and holds
    // no call of its own. (Spaced by it, the retry went at 4 s.) The other starts are the first worker's
    // at the pace.
    expect(await paced({ calls: 10, concurrency: 2, refuse: { 1: 3_000, 2: 1_000 } })).toEqual([
      '0R',
      '0R',
      '3000',
      '3375',
      '3742.647',
      '4103.085',
      '4103.085',
      '4276.306',
      '4446.131',
      '4612.626',
      '4775.856',
      '5000',
    ]);
  });

  it('a measure counts the calls in flight at the first 429 among the calls the API took', async () => {
    // Two at a time, 200 ms each: attempt 12 is refused at 1 s while attempt 11 is in flight; it goes
    // through during the wait. Attempt 18 measures, in tokens and in calls, with that call counted; the
    // 100-token calls after it go by the call reading. Pins `acceptedCallsSinceDry` as the measure's call
    // count: counted from the calls started after the 429 alone, the call reading came out lower.
    const starts = await paced({
      calls: 30,
      tokens: [
        ...Array(20).fill(10),
        ...Array.from({ length: 10 }, (_, index) => (index % 2 === 1 ? 100 : 1)),
      ],
      latencyMs: 200,
      concurrency: 2,
      refuse: { 12: 1_000, 18: 25 },
    });
    expect(starts).toEqual([
      '0',
      '0',
      '200',
      '200',
      '400',
      '400',
      '600',
      '600',
      '800',
      '800',
      '1000R',
      '1000',
      '2000',
      '7980.392',
      '13843.522',
      '19591.688',
      '25227.145',
      '30752.103R',
      '36168.728',
      '41212.957',
      '46252.146',
      '51286.302',
      '56315.428',
      '56817.838',
      '61836.921',
      '62338.328',
      '67347.388',
      '67847.793',
      '72846.85',
      '73346.256',
      '78335.33',
      '78833.739',
    ]);
  });
});

describe('a refused call the counter estimated at 0 tokens', () => {
  it('still sets a pace: the call reading paces alone where there is no token reading', async () => {
    // The first call (0 tokens, an empty input or a counter that returns 0) is refused for 1 s. The
    // guess read from it is 0 tokens a millisecond and one call a second; the calls of 100 tokens after
    // it go one a second, the guess doubling every quiet second, exactly as after a refused call of 1
    // token. Taking the token rate of 0 for "no pace" let all six go at 1 s, and every later 429 read
    // as a stumble.
    const after = (first: number) =>
      paced({ calls: 7, tokens: [first, 100, 100, 100, 100, 100, 100], refuse: { 1: 1_000 } });
    const expected = ['0R', '1000', '1500', '1990.196', '2470.78', '2470.78', '2701.742', '2928.175'];
    expect(await after(0)).toEqual(expected);
    expect(await after(1)).toEqual(expected);
  });
});

describe('the release after a pause', () => {
  it('a later pause starts its own release: the slot left by an earlier, longer one does not hold it', async () => {
    // A 429 asks 70 s; its retry goes at 70 s, and the next call is refused for 1 s. That call's retry
    // goes when its own pause ends, at 71 s, and the last call with it: the slot the first release set
    // aside (70 s + 2 s) held both until 72 s.
    expect(await paced({ calls: 3, options: { adaptive: false }, refuse: { 1: 70_000, 3: 1_000 } })).toEqual([
      '0R',
      '70000',
      '70000R',
      '71000',
      '71000',
    ]);
  });

  it('calls still held by an earlier pause keep their slots: a new pause queues after them', async () => {
    // Three at once; the first is refused for 10 s, and the calls held by that pause go 2 s apart from
    // 10 s. One of them is refused for 1 s while the others still wait: the new pause's call comes after
    // the slots already given, never before them, and the 10 s pause's 2 s spacing holds while it holds
    // calls (at 12 s, the first call's next one was not held: it came after both pauses ended).
    expect(
      await paced({
        calls: 6,
        concurrency: 3,
        options: { adaptive: false },
        refuse: { 1: 10_000, 4: 1_000 },
      }),
    ).toEqual(['0R', '0', '0', '10000R', '12000', '12000', '14000', '16000']);
  });
});
