export { HELP, main } from './cli.js';
export { CliError, EXIT, InputError, UsageError } from './errors.js';
export type { InputFingerprint } from './input-fingerprint.js';
export { type NpyHeader, npyHeader, parseNpyHeader } from './npy.js';
export { type Checkpoint, checkpointPath, type JobKey, metaPath } from './output.js';
export { type IndexHeader, readIndex } from './search.js';
