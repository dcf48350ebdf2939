export type { Cassette, CreateModelOptions, DescribeEmbeddingProviderOptions, WireProfile, WireRequest } from './types.js';
export { createInterceptor, type ExpectOptions, type Interceptor, type ReplyHandler, TRANSPORT_KINDS, type TransportKind, type WireReply } from './interceptor.js';
