const texts = [];
for (let i = 0; i < 128; i++)
  texts.push(Buffer.from(new Float32Array(1024).map((_, j) => Math.sin(i + j)).buffer).toString('base64'));
function base64ByteLength(text) {
  let length = text.length;
  if (length > 0 && text.charCodeAt(length - 1) === 61) length--;
  if (length > 0 && text.charCodeAt(length - 1) === 61) length--;
  if (length % 4 === 1) return -1;
  return Math.floor((length * 3) / 4);
}
function assertFinite(vector, index) {
  for (let p = 0; p < vector.length; p++) {
    const v = vector[p];
    if (v - v !== 0) throw new Error('x' + index);
  }
}
function core(texts, check) {
  const lengths = new Array(texts.length);
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    const l = base64ByteLength(texts[i]);
    if (l <= 0 || l % 4 !== 0) throw 1;
    lengths[i] = l;
    total += l;
  }
  const slab = Buffer.allocUnsafeSlow(total);
  const out = new Array(texts.length);
  let offset = 0;
  for (let i = 0; i < texts.length; i++) {
    const l = lengths[i];
    const w = slab.write(texts[i], offset, l, 'base64');
    if (w !== l) throw 2;
    out[i] = new Float32Array(slab.buffer, slab.byteOffset + offset, l / 4);
    offset += l;
  }
  if (check === 1) for (let i = 0; i < out.length; i++) assertFinite(out[i], i);
  if (check === 2) {
    const words = new Int32Array(slab.buffer, slab.byteOffset, total >> 2);
    let bad = 0;
    for (let i = 0; i < words.length; i++) bad |= (words[i] & 0x7f800000) === 0x7f800000 ? 1 : 0;
    if (bad) throw 3;
  }
  return out;
}
function floor(texts) {
  const bytes = 4096;
  const slab = Buffer.allocUnsafeSlow(bytes * texts.length);
  for (let i = 0; i < texts.length; i++) slab.write(texts[i], i * bytes, bytes, 'base64');
  const out = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) out[i] = new Float32Array(slab.buffer, i * bytes, 1024);
  return out;
}
function time(label, fn) {
  for (let i = 0; i < 300; i++) fn();
  const t = performance.now();
  for (let i = 0; i < 2000; i++) fn();
  console.log(label.padEnd(30), (((performance.now() - t) / 2000) * 1000).toFixed(0), 'µs');
}
for (let r = 0; r < 2; r++) {
  time('floor', () => floor(texts));
  time('core no check', () => core(texts, 0));
  time('core assertFinite', () => core(texts, 1));
  time('core int mask', () => core(texts, 2));
}
