/** The Node major the AI SDK's current packages (`ai` 7, `@ai-sdk/*` 4) declare in engines.node. */
export const REQUIRED_NODE_MAJOR = 22;

export const NODE_REQUIREMENT = `@embedkit/ai-sdk tests need Node >= ${REQUIRED_NODE_MAJOR} (ai 7 and @ai-sdk/* 4 declare engines.node >= ${REQUIRED_NODE_MAJOR}); CI runs them in its Node 24 pass`;

export function nodeIsSupported(version: string = process.versions.node): boolean {
  return Number(version.split('.')[0]) >= REQUIRED_NODE_MAJOR;
}
