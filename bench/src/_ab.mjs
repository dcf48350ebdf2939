import { fork } from 'node:child_process';
import { makeInputs } from '/work/main/bench/src/data.mjs';
import { embedMany } from '@embedkit/core';
import { createOpenAI } from '@embedkit/provider-openai';
import { Agent, request } from 'undici';
const server = fork('/work/main/bench/src/server.mjs', [], { env: { ...process.env, BENCH_SERVER_OPTIONS: JSON.stringify({ prepare: [1024] }) } });
const port = await new Promise((r) => server.on('message', (m) => m.type === 'ready' && r(m.port)));
const baseURL = `http://127.0.0.1:${port}/openai/v1`;
const variants = {
  default: createOpenAI({ baseURL, apiKey: 'k' }).embedding('text-embedding-3-large'),
  plainAgent: createOpenAI({ baseURL, apiKey: 'k', dispatcher: new Agent() }).embedding('text-embedding-3-large'),
};
const inputs = makeInputs(10000);
const batch = Number(process.argv[2] ?? 128);
for (const m of Object.values(variants)) await embedMany({ model: m, inputs: inputs.slice(0, 3000), dimensions: 1024, maxInputsPerCall: batch });
for (let round = 0; round < 4; round++) for (const [name, m] of Object.entries(variants)) {
  gc(); const c = process.cpuUsage(); await embedMany({ model: m, inputs, dimensions: 1024, maxInputsPerCall: batch }); const u = process.cpuUsage(c); console.log(name, ((u.user + u.system) / 1000).toFixed(0));
}
server.kill();
