import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { createDefaultTransport as createFetchDefault } from '../src/http/default-transport.js';
import { createDefaultTransport as createNodeDefault } from '../src/http/default-transport.node.js';

// package.json maps `#default-transport` to one of these two files by runtime condition; the mapping
// itself is exercised in real runtimes (runtimes/test), these tests pin what each file does.
describe('default transports', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('every runtime but Node sends with the global fetch, read at call time', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const transport = createFetchDefault();
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });
    });
    expect(transport.kind).toBe('fetch');
    const response = await transport.request({
      url: 'https://api.example.test/v1/embeddings',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"input":["a"]}',
      maxResponseBytes: 1024,
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('https://api.example.test/v1/embeddings');
    expect(calls[0]!.init.body).toBe('{"input":["a"]}');
    expect(new TextDecoder().decode(response.body)).toBe('{"ok":true}');
  });

  it('outside Node an undici dispatcher is refused before any request, not silently ignored', () => {
    const error = (() => {
      try {
        createFetchDefault({});
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('dispatcher');
    expect((error as Error).message).toMatch(/pass `fetch` instead/);
  });

  it('Node sends with undici', () => {
    const transport = createNodeDefault();
    expect(transport.kind).toBe('undici');
  });
});
