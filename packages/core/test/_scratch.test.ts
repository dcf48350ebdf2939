import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { inspect } from 'node:util';
import { test } from 'vitest';
import { createTransport, createFetchTransport, requestJson } from '../src/index.js';

test('scratch', async () => {
  const server = createServer((req, res) => {
    const body = gzipSync(JSON.stringify({ error: { message: 'quota gone', code: 'insufficient_quota' } }));
    res.writeHead(429, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    await requestJson({ transport: createTransport(), provider: 'p', url: `http://127.0.0.1:${port}/x`, body: { a: 1 }, parseError: (b) => { console.log('parsed', b); return { quotaExhausted: true, message: 'm' }; } });
  } catch (e) { console.log('ERR', (e as Error).message, (e as {quotaExhausted?: boolean}).quotaExhausted); }
  server.close(); server.closeAllConnections();
  try {
    await requestJson({ transport: createFetchTransport(async () => new Response('hello sk-secret-123456 world', { status: 200 })), provider: 'p', url: 'https://x/y', body: {}, secrets: ['sk-secret-123456'] });
  } catch (e) { console.log('INSPECT', inspect(e).includes('sk-secret-123456')); console.log(inspect(e).slice(0, 800)); }
  const r = new Response('abc', { headers: { 'content-length': '1000' } });
  console.log('CL', r.headers.get('content-length'));
  console.log('b64', Buffer.from('ZicX!4DR', 'base64').length, Buffer.from('AAAA=AAA', 'base64').length, Date.parse('-1'), Date.parse('1 2'), Date.parse(' 5 '));
});
