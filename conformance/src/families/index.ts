import type { Family } from '../suite/family.js';
import type { JobKit, JobWorld } from '../suite/job-kit.js';
import { baseUrl } from './base-url.js';
import { errorAnswers } from './error-answers.js';
import { networkFaults } from './network-faults.js';
import { redaction } from './redaction.js';
import { waits } from './waits.js';

/** The families every group shares (embeddings, contextualized, rerank), in report order. */
export const sharedFamilies: readonly Family<JobKit, JobWorld>[] = [
  errorAnswers,
  waits,
  redaction,
  networkFaults,
  baseUrl,
];
