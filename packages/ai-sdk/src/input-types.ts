import type { InputTypeOptions } from './from-ai-sdk.js';

/**
 * Input types of the AI SDK providers whose embedding options carry one, in each provider's words (read
 * from the providers' option schemas: `@ai-sdk/google` `taskType`, `@ai-sdk/cohere` `inputType`).
 */
const KNOWN: Record<string, InputTypeOptions> = {
  google: {
    query: { google: { taskType: 'RETRIEVAL_QUERY' } },
    document: { google: { taskType: 'RETRIEVAL_DOCUMENT' } },
    similarity: { google: { taskType: 'SEMANTIC_SIMILARITY' } },
    classification: { google: { taskType: 'CLASSIFICATION' } },
    clustering: { google: { taskType: 'CLUSTERING' } },
    'question-answering': { google: { taskType: 'QUESTION_ANSWERING' } },
    'fact-verification': { google: { taskType: 'FACT_VERIFICATION' } },
    'code-query': { google: { taskType: 'CODE_RETRIEVAL_QUERY' } },
  },
  cohere: {
    query: { cohere: { inputType: 'search_query' } },
    document: { cohere: { inputType: 'search_document' } },
    classification: { cohere: { inputType: 'classification' } },
    clustering: { cohere: { inputType: 'clustering' } },
  },
};

/** The built-in input type mapping for an AI SDK provider (the first word of its `provider`), or none. */
export function knownInputTypes(provider: string): InputTypeOptions {
  return KNOWN[provider] ?? {};
}
