import { decodeBase64Vectors } from '@embedkit/core';

const texts = [];
for (let i = 0; i < 128; i++)
  texts.push(Buffer.from(new Float32Array(1024).map((_, j) => Math.sin(i + j)).buffer).toString('base64'));
function time(label, fn) {
  for (let i = 0; i < 200; i++) fn();
  const t = performance.now();
  for (let i = 0; i < 1000; i++) fn();
  console.log(label.padEnd(30), (((performance.now() - t) / 1000) * 1000).toFixed(0), 'µs');
}
time('core decodeBase64Vectors', () => decodeBase64Vectors(texts, 'float'));
time('floor', () => {
  const bytes = 4096;
  const slab = Buffer.allocUnsafeSlow(bytes * texts.length);
  for (let i = 0; i < texts.length; i++) slab.write(texts[i], i * bytes, bytes, 'base64');
  const out = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) out[i] = new Float32Array(slab.buffer, i * bytes, 1024);
  return out;
});
time('core decodeBase64Vectors', () => decodeBase64Vectors(texts, 'float'));
