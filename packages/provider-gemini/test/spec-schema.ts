type Schema = Record<string, unknown>;

/**
 * The spec's schemas allow any extra field; close every plain object so a misspelt field fails too.
 * Branches of an `allOf` stay open: each one holds only part of the fields.
 */
export function closeObjects(node: unknown, close = true): unknown {
  if (Array.isArray(node)) return node.map((item) => closeObjects(item, close));
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) out[key] = closeObjects(value, key !== 'allOf');
  if (
    close &&
    out.type === 'object' &&
    out.properties !== undefined &&
    out.additionalProperties === undefined
  )
    out.additionalProperties = false;
  return out;
}
