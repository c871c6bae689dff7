// Median latency of one ONNX model on onnxruntime-node for a [1,1,64,128,128] input (a benchmark, not a test).
// usage: node training/scripts/ort-bench.cjs model.onnx [runs=5] [threads=2]  -> one JSON line
const ort = require('onnxruntime-node');

async function main() {
  const [file, runsArg, threadsArg] = process.argv.slice(2);
  const runs = Number(runsArg ?? 5);
  const threads = Number(threadsArg ?? 2);
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const input = new Float32Array(64 * 128 * 128);
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.001);
  const feeds = { ct: new ort.Tensor('float32', input, [1, 1, 64, 128, 128]) };
  await session.run(feeds); // warm-up
  const times = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(JSON.stringify({ medianMs: Math.round(median * 10) / 10, runs, threads, timesMs: times.map((t) => Math.round(t)) }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
