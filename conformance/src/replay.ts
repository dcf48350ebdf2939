/**
 * Cassette replay for programs, not tests: the same as `@embedkit/replay` and `@embedkit/replay/node`,
 * kept here for programs that import it from the suite. This entry point loads neither vitest nor nock.
 * (Named re-exports: a bundler may drop `export *` from another package in a split build.)
 */
export {
  bodyDifferences,
  type Cassette,
  type CassetteCall,
  type CassetteInteraction,
  checkCassette,
  createReplayFetch,
  createReplayMatcher,
  type ReplayAnswer,
  type ReplayFetch,
  type ReplayMatcher,
  type ReplayMismatch,
  type ReplayOptions,
  type ReplayRequest,
  recordedInputs,
  scrubCassette,
} from '@embedkit/replay';
export {
  cassetteFiles,
  createReplayDispatcher,
  type ReplayDispatcher,
  readCassette,
  readCassetteDirectory,
} from '@embedkit/replay/node';
