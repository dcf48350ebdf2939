import { afterEach, describe, expect, it, vi } from 'vitest';
import { sendBatchJobRequest, waitForBatchJob } from '../src/batch-jobs.js';
import { createMemoryLimiterStore, createRateLimiter, type LimiterStore } from '../src/engine/limiter.js';
import { ConnectionError, InvalidArgumentError, RateLimitError, RetryError } from '../src/errors.js';
import { topK } from '../src/search/top-k.js';
import { refuseUnknownSettings } from '../src/setting-names.js';
import { recordingClock, rejectionOf } from '../src/testing.js';
import type { Warning } from '../src/types.js';
import { cosineSimilarity } from '../src/vectors.js';

describe('topK over values whose squares overflow or underflow a double', () => {
  const query = [3e200, 4e200, 0];
  const corpus = [
    [4e200, 3e200, 0],
    [1, 0, 0],
    [3e-200, 4e-200, 1e-200],
  ];

  it('scores number arrays as cosineSimilarity does, and ranks by those scores', () => {
    expect(topK(query, corpus, 3)).toEqual([
      { index: 2, score: 0.9805806756909201 },
      { index: 0, score: 0.96 },
      { index: 1, score: 0.6 },
    ]);
    expect(corpus.map((vector) => cosineSimilarity(query, vector))).toEqual([0.96, 0.6, 0.9805806756909201]);
  });

  it('scores Float64Array vectors the same', () => {
    const vectors = corpus.map((vector) => Float64Array.from(vector));
    expect(topK(Float64Array.from(query), vectors, 2)).toEqual([
      { index: 2, score: 0.9805806756909201 },
      { index: 0, score: 0.96 },
    ]);
  });

  it('scores huge and tiny vectors against an ordinary query, on the first query and the cached lengths after', () => {
    const vectors = [
      [1e200, 0, 0],
      [0, 1e200, 1e200],
      [1e-200, 2e-200, 3e-200],
    ];
    const expected = [
      { index: 2, score: 1 },
      { index: 1, score: 0.9449111825230679 },
      { index: 0, score: 0.2672612419124244 },
    ];
    expect(topK([1, 2, 3], vectors, 3)).toEqual(expected);
    expect(topK([1, 2, 3], vectors, 3)).toEqual(expected);
    expect(vectors.map((vector) => cosineSimilarity([1, 2, 3], vector))).toEqual([
      0.2672612419124244, 0.9449111825230679, 1,
    ]);
  });

  it('scores every vector 0 for an all-zero query without copying any of them', () => {
    const copies = vi.spyOn(Float64Array, 'from');
    try {
      const vectors = Array.from({ length: 50 }, (_, index) => [index + 1, 2, 3]);
      const ranked = topK([0, 0, 0], vectors, 3);
      expect(ranked.map((hit) => hit.score)).toEqual([0, 0, 0]);
      expect(copies).not.toHaveBeenCalled();
    } finally {
      copies.mockRestore();
    }
  });
});

describe('typo suggestions for unknown settings', () => {
  const KNOWN = { y: true, user: true, dimensions: true } as const;

  /** The message `refuseUnknownSettings` refuses `{ [name]: 1 }` with. */
  function refusal(name: string): string {
    try {
      refuseUnknownSettings({ [name]: 1 }, KNOWN, 'acme');
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).code).toBe('invalid_argument');
      return (error as Error).message;
    }
    return expect.unreachable('the setting was accepted; it had to be refused');
  }

  it('a one-letter name that shares no letter with any setting suggests none, and lists the settings', () => {
    expect(refusal('x')).toBe('acme has no setting x. It takes y, user, dimensions.');
  });

  it('a name one edit from a setting suggests it', () => {
    expect(refusal('usr')).toBe('acme has no setting usr; did you mean user?');
    expect(refusal('dimension')).toBe('acme has no setting dimension; did you mean dimensions?');
  });
});

describe('a batch-jobs object whose own rate limiter cannot record a request', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A jobs object of another package with a limiter on a store that can take but not pause or refund. */
  function jobsWithFailingLimiter() {
    const store: LimiterStore = {
      ...createMemoryLimiterStore(),
      adjust: () => {
        throw new Error('store unreachable');
      },
      pause: () => {
        throw new Error('store unreachable');
      },
    };
    return {
      provider: 'acme',
      modelId: 'acme-batch',
      rateLimiter: createRateLimiter({ requestsPerMinute: 600, store }),
    };
  }

  const FAILED_WARNING: Warning = {
    type: 'other',
    message:
      "The rate limiter could not record a failed call (store unreachable); the call's own error is retried or thrown as usual, and the limiter's budgets and 429 pause may not count it.",
  };

  it('tells onWarning once of a 429 pause it could not record, and still retries and answers', async () => {
    const heard: Warning[] = [];
    const clock = recordingClock(0);
    let attempts = 0;
    const answer = await sendBatchJobRequest(
      jobsWithFailingLimiter(),
      'get',
      { clock, maxRetries: 2, onWarning: (warning) => heard.push(warning) },
      async () => {
        attempts++;
        if (attempts < 3) throw new RateLimitError('slow down', { retryAfterMs: 1_000 });
        return 'the job';
      },
    );
    expect(answer).toBe('the job');
    expect(attempts).toBe(3);
    expect(heard).toEqual([FAILED_WARNING]);
    // The pause went unrecorded, so the call waited it out by itself.
    expect(clock.sleeps).toEqual([1_000, 1_000]);
  });

  it('tells onWarning of a refund it could not record, and throws the call its own error', async () => {
    const heard: Warning[] = [];
    const error = await rejectionOf(
      sendBatchJobRequest(
        jobsWithFailingLimiter(),
        'delete',
        { clock: recordingClock(0), maxRetries: 1, onWarning: (warning) => heard.push(warning) },
        async () => {
          throw new ConnectionError('connection refused', { neverSent: true });
        },
      ),
    );
    expect(RetryError.isInstance(error)).toBe(true);
    expect(error.code).toBe('retries_exhausted');
    expect(error.attempts).toBe(2);
    expect(error.message).toBe(
      'acme model acme-batch failed 2 times; the last error: connection refused — every retry failed: try again later, or raise maxRetries.',
    );
    expect(heard).toEqual([FAILED_WARNING]);
  });

  it('without onWarning, emits a process warning of type EmbedkitWarning', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    let attempts = 0;
    await sendBatchJobRequest(jobsWithFailingLimiter(), 'get', { clock: recordingClock(0) }, async () => {
      attempts++;
      if (attempts === 1) throw new RateLimitError('slow down', { retryAfterMs: 1_000 });
      return 'the job';
    });
    expect(emitted.mock.calls).toEqual([
      [FAILED_WARNING.message, { type: 'EmbedkitWarning', code: 'limiter-settle-failed' }],
    ]);
  });

  it('wait says a limiter failure once over all its polls', async () => {
    const heard: Warning[] = [];
    const jobs = jobsWithFailingLimiter();
    const clock = recordingClock(0);
    let attempts = 0;
    const job = await waitForBatchJob(
      (id, options) =>
        sendBatchJobRequest(jobs, 'get', { ...options, clock, maxRetries: 1 }, async () => {
          attempts++;
          // Each of the two polls fails once before it leaves, then is answered: two refunds the limiter
          // cannot record.
          if (attempts % 2 === 1) throw new ConnectionError('connection refused', { neverSent: true });
          return {
            id,
            provider: 'acme',
            modelId: 'acme-batch',
            state: attempts === 4 ? ('succeeded' as const) : ('running' as const),
            requestCounts: {
              total: 1,
              succeeded: attempts === 4 ? 1 : 0,
              failed: 0,
              pending: attempts === 4 ? 0 : 1,
            },
          };
        }),
      'batches/1',
      { clock, onWarning: (warning) => heard.push(warning) },
    );
    expect(job.state).toBe('succeeded');
    expect(attempts).toBe(4);
    expect(heard).toEqual([FAILED_WARNING]);
  });

  it('without onWarning, the calls of one jobs object emit one process warning between them', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const jobs = jobsWithFailingLimiter();
    for (let call = 0; call < 3; call++) {
      const error = await rejectionOf(
        sendBatchJobRequest(jobs, 'get', { clock: recordingClock(0), maxRetries: 1 }, async () => {
          throw new ConnectionError('connection refused', { neverSent: true });
        }),
      );
      expect(RetryError.isInstance(error)).toBe(true);
    }
    expect(emitted).toHaveBeenCalledTimes(1);
  });
});
