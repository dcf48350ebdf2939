/**
 * Cassette replay for programs, not tests: the same as `@embedkit/replay` and `@embedkit/replay/node`,
 * kept here for programs that import it from the suite. This entry point loads neither vitest nor nock.
 */
export * from '@embedkit/replay';
export * from '@embedkit/replay/node';
