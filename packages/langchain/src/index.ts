/** `@embedkit/langchain`: a LangChain.js `Embeddings` class over any embedkit model. */
export { EmbedkitEmbeddings, type EmbedkitEmbeddingsParams } from './embedkit-embeddings.js';
