import { fork } from 'node:child_process';
import { baseURLs, clientById } from './clients.mjs';
import { makeInputs } from './data.mjs';

const [id, batch, dims, rounds] = [
  process.argv[2],
  Number(process.argv[3] ?? 128),
  Number(process.argv[4] ?? 1024),
  Number(process.argv[5] ?? 8),
];
const server = fork(new URL('./server.mjs', import.meta.url), [], {
  env: { ...process.env, BENCH_SERVER_OPTIONS: JSON.stringify({ prepare: [dims] }) },
});
const port = await new Promise((r) => server.on('message', (m) => m.type === 'ready' && r(m.port)));
const a = await clientById(id).create({
  baseURL: baseURLs(port),
  key: 'k',
  dimensions: dims,
  batch,
  concurrency: 4,
});
const inputs = makeInputs(10000);
for (let i = 0; i < 3; i++) await a.embed(makeInputs(10000, 1e7));
const cpus = [];
for (let i = 0; i < rounds; i++) {
  const c = process.cpuUsage();
  await a.embed(inputs);
  const u = process.cpuUsage(c);
  cpus.push(((u.user + u.system) / 1000).toFixed(0));
}
console.log(id, batch, dims, 'cpu ms per 10k:', cpus.join(' '));
server.kill();
