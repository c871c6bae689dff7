const ort = require('onnxruntime-node');
const fs = require('fs');
(async () => {
  const fx = JSON.parse(fs.readFileSync('test/fixtures/model-parity/fixture.json'));
  const buf = fs.readFileSync('test/fixtures/model-parity/input.f32.bin');
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const eb = fs.readFileSync('test/fixtures/model-parity/logits.f32.bin');
  const e = new Float32Array(eb.buffer, eb.byteOffset, eb.length / 4);
  const s = await ort.InferenceSession.create(fx.modelFile, { intraOpNumThreads: 2 });
  const out = await s.run({ ct: new ort.Tensor('float32', x, fx.input.shape) });
  const y = out.logits.data; let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] - e[i]));
  console.log('max diff', m, out.logits.dims);
  const big = new Float32Array(64 * 128 * 128);
  const times = [];
  for (let r = 0; r < 5; r++) { const t = Date.now(); await s.run({ ct: new ort.Tensor('float32', big, [1, 1, 64, 128, 128]) }); times.push(Date.now() - t); }
  times.sort((a, b) => a - b); console.log('ms median', times[2], times);
})();
