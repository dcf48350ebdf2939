import { createServer } from 'node:http';
import { clientById } from './clients.mjs';
import { makeInputs } from './data.mjs';

const seen = [];
const server = createServer((req, res) => {
  let n = 0;
  const sizes = [];
  req.on('data', (c) => {
    n += c.length;
    sizes.push(c.length);
  });
  req.on('end', () => {
    seen.push({ headers: req.headers, n, chunks: sizes.length });
    res.writeHead(500);
    res.end('{}');
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
for (const id of ['floor', 'embedkit-base64']) {
  const a = await clientById(id).create({
    baseURL: { openai: `http://127.0.0.1:${port}/openai/v1` },
    key: 'k',
    dimensions: 1024,
    batch: 128,
    concurrency: 1,
  });
  try {
    await a.embed(makeInputs(128));
  } catch {}
  console.log(id, JSON.stringify(seen.at(-1)));
}
server.close();
process.exit(0);
