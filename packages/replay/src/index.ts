/**
 * `@embedkit/replay`: the cassette format and a replay that answers from recorded exchanges instead of
 * the network, in any runtime with `fetch`. Reading cassette files and the undici replay dispatcher are
 * Node-only and live in `@embedkit/replay/node`.
 */
export {
  type Cassette,
  type CassetteCall,
  type CassetteInteraction,
  checkCassette,
} from './cassette.js';
export { bodyDifferences, headerDifferences } from './differences.js';
export { lowerCaseHeaders, unrecordedRequestHeader } from './headers.js';
export {
  createReplayFetch,
  createReplayMatcher,
  type ReplayAnswer,
  type ReplayFetch,
  type ReplayMatcher,
  type ReplayMismatch,
  type ReplayOptions,
  type ReplayRequest,
  recordedInputs,
} from './replay.js';
export { scrubCassette } from './scrub.js';
