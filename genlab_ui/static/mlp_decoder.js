// Shared by genlab's components (prepended to their code): fetch a VAE's exported MLP
// decoder (genlab.export.mlp_decoder_blob: float32 W then b per layer) and run it, ReLU
// between layers and a sigmoid at the end, exactly as genlab.models.vae.VAE.decode.

async function fetchDecoder(spec) {
  const buf = await (await fetch(spec.url)).arrayBuffer();
  const flat = new Float32Array(buf);
  let off = 0;
  const layers = spec.layers.map(([out, inp]) => {
    const w = flat.subarray(off, off + out * inp); off += out * inp;
    const b = flat.subarray(off, off + out); off += out;
    return { w, b, out, inp };
  });
  if (off !== flat.length) throw new Error(`decoder blob has ${flat.length} floats, expected ${off}`);
  return { layers, key: spec.key };
}

function decodeMLP(decoder, z) {  // z: array of D numbers -> Float64Array(784) in [0, 1]
  let h = Float64Array.from(z);
  const n = decoder.layers.length;
  decoder.layers.forEach(({ w, b, out, inp }, li) => {
    const next = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let acc = b[o];
      const row = o * inp;
      for (let i = 0; i < inp; i++) acc += w[row + i] * h[i];
      next[o] = li < n - 1 ? (acc > 0 ? acc : 0) : 1 / (1 + Math.exp(-acc));
    }
    h = next;
  });
  return h;
}

function smallCanvas() {
  const c = document.createElement("canvas");
  c.width = 28; c.height = 28;
  return c;
}

function paintImage(target, small, px) {  // 784 values in [0, 1] -> crisp upscaled image
  const img = small.getContext("2d").createImageData(28, 28);
  for (let p = 0; p < 784; p++) {
    const v = Math.round(px[p] * 255);
    img.data[4 * p] = v; img.data[4 * p + 1] = v; img.data[4 * p + 2] = v; img.data[4 * p + 3] = 255;
  }
  small.getContext("2d").putImageData(img, 0, 0);
  const ctx = target.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, target.width, target.height);
}
