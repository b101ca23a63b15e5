// genlab latent map: a canvas scatter of encoded held-out images (coloured by class),
// hover shows the image under the pointer, click sends the latent point back to Python.
// Data from Python: {x, y, c (class index), thumbs (base64 uint8 N*784), classes,
// colors, marker [z1, z2], extra [{x, y, label}], range R (axes span [-R, R]), size}.
// The hover images come as one PNG atlas (atlas_cols images of 28x28 per row): a served file
// (app/static/atlases/...), or inline base64 where the server cannot write static/.
// Latent pad: with data.decoder = {url, layers [[out, in], ...], key}, the component fetches
// the VAE decoder's float32 weights once and decodes z in the browser on every pointer move
// (ReLU MLP + sigmoid, exactly genlab.models.vae.VAE.decode), so the image morphs while you
// drag; on release (or 250 ms after the last arrow key) z is sent back to Python.

const STEP = 0.05;

async function loadDecoder(st, spec) {
  st.decoder = await fetchDecoder(spec);
  st.canvas.genlabDecode = (z) => Array.from(decodeMLP(st.decoder, z));
  drawLive(st, st.z);
}

function drawLive(st, z) {
  if (!st.decoder || !z) return;
  const t0 = performance.now();
  const px = decodeMLP(st.decoder, z);
  st.stats.decode.push(performance.now() - t0);
  paintImage(st.live, st.liveSmall, px);
  st.liveText.textContent = `live decode in your browser · z = (${z[0].toFixed(2)}, ${z[1].toFixed(2)})`;
}

function setup(root) {
  const wrap = document.createElement("div");
  wrap.className = "lm-wrap";
  const canvas = document.createElement("canvas");
  canvas.className = "lm-canvas";
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Latent map: click to decode a point");
  const tip = document.createElement("div");
  tip.className = "lm-tip";
  const tipCanvas = document.createElement("canvas");
  tipCanvas.width = 84; tipCanvas.height = 84;
  const tipText = document.createElement("div");
  tip.append(tipCanvas, tipText);
  const legend = document.createElement("div");
  legend.className = "lm-legend";
  const mapBox = document.createElement("div");
  mapBox.className = "lm-map";
  mapBox.append(canvas, tip, legend);
  const liveBox = document.createElement("div");
  liveBox.className = "lm-live";
  const live = document.createElement("canvas");
  live.width = 224; live.height = 224;
  live.className = "lm-live-canvas";
  const liveText = document.createElement("div");
  liveText.className = "lm-live-text";
  liveBox.append(live, liveText);
  const liveSmall = smallCanvas();
  wrap.append(mapBox, liveBox);
  root.appendChild(wrap);
  const stats = { frame: [], decode: [] };
  canvas.genlabStats = stats;
  return { wrap, canvas, tip, tipCanvas, tipText, legend, live, liveBox, liveText, liveSmall, stats,
           data: null, points: null, atlas: null, decoder: null, decoderKey: null,
           z: null, dragging: false, keyTimer: null };
}

function toPixel(st, zx, zy) {
  const s = st.size, R = st.data.range;
  return [(zx + R) / (2 * R) * s, (R - zy) / (2 * R) * s];
}

function toLatent(st, px, py) {
  const s = st.size, R = st.data.range;
  return [px / s * 2 * R - R, R - py / s * 2 * R];
}

function drawBackground(st, ctx) {  // grid, points and extra marks: redrawn only when they change
  const d = st.data, s = st.size, R = d.range;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, s, s);
  ctx.strokeStyle = "#e6e6e6"; ctx.fillStyle = "#888"; ctx.font = "10px sans-serif";
  for (let v = -Math.floor(R); v <= Math.floor(R); v++) {
    const [gx, gy] = toPixel(st, v, v);
    ctx.beginPath(); ctx.moveTo(gx, 0); ctx.lineTo(gx, s); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, gy); ctx.lineTo(s, gy); ctx.stroke();
    ctx.fillText(String(v), gx + 2, s - 3);
    if (v !== 0) ctx.fillText(String(v), 2, gy - 2);
  }
  ctx.fillText("z1 →", s - 28, s - 14); ctx.fillText("z2 ↑", 4, 12);
  ctx.globalAlpha = d.alpha || 0.55;
  for (let i = 0; i < d.x.length; i++) {
    const [px, py] = toPixel(st, d.x[i], d.y[i]);
    ctx.fillStyle = d.colors[d.c[i]];
    ctx.beginPath(); ctx.arc(px, py, 2.6, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.globalAlpha = 1;
  for (const e of d.extra || []) {
    const [px, py] = toPixel(st, e.x, e.y);
    ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.rect(px - 6, py - 6, 12, 12); ctx.stroke();
    ctx.fillStyle = "#000"; ctx.font = "11px sans-serif"; ctx.fillText(e.label, px + 8, py - 6);
  }
  ctx.lineWidth = 1;
}

function draw(st) {
  const d = st.data, ctx = st.canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const bgKey = JSON.stringify([d.points_key, st.size, dpr, d.range, d.extra]);
  if (st.bgKey !== bgKey) {
    st.bg = st.bg || document.createElement("canvas");
    st.bg.width = st.canvas.width; st.bg.height = st.canvas.height;
    const bctx = st.bg.getContext("2d");
    bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawBackground(st, bctx);
    st.bgKey = bgKey;
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(st.bg, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const m = st.z || d.marker;
  if (m) {
    const [mx, my] = toPixel(st, m[0], m[1]);
    ctx.lineWidth = 2.5; ctx.strokeStyle = "#000";
    ctx.beginPath(); ctx.moveTo(mx - 10, my); ctx.lineTo(mx + 10, my);
    ctx.moveTo(mx, my - 10); ctx.lineTo(mx, my + 10); ctx.stroke();
    ctx.strokeStyle = "#ff2b2b"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(mx, my, 7, 0, 2 * Math.PI); ctx.stroke();
  }
  ctx.lineWidth = 1;
}

function nearest(st, px, py) {
  const d = st.data;
  let best = -1, bestD = 64; // within 8 px
  for (let i = 0; i < d.x.length; i++) {
    const [qx, qy] = toPixel(st, d.x[i], d.y[i]);
    const dd = (qx - px) ** 2 + (qy - py) ** 2;
    if (dd < bestD) { bestD = dd; best = i; }
  }
  return best;
}

function showTip(st, i, px, py) {
  if (i < 0 || !st.atlas || !st.atlas.complete) { st.tip.style.display = "none"; return; }
  const d = st.data;
  const ctx = st.tipCanvas.getContext("2d");
  const sx = (i % d.atlas_cols) * 28, sy = Math.floor(i / d.atlas_cols) * 28;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(st.atlas, sx, sy, 28, 28, 0, 0, 84, 84);
  st.tipText.textContent = `${d.classes[d.c[i]]} · #${i} · z=(${d.x[i].toFixed(2)}, ${d.y[i].toFixed(2)})`;
  st.tip.style.display = "block";
  st.tip.style.left = `${Math.min(px + 14, st.size - 96)}px`;
  st.tip.style.top = `${Math.max(py - 100, 0)}px`;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let st = parentElement.__genlabMap;
  if (!st) {
    st = setup(parentElement);
    parentElement.__genlabMap = st;
    const pos = (ev) => {  // CSS pixels inside the border
      const r = st.canvas.getBoundingClientRect();
      return [ev.clientX - r.left - st.canvas.clientLeft, ev.clientY - r.top - st.canvas.clientTop];
    };
    const clampZ = (z) => z.map((v) => Math.max(-st.data.zmax, Math.min(st.data.zmax, v)));
    const moveTo = (z, ev) => {
      st.z = clampZ(z);
      draw(st);
      drawLive(st, st.z);
      if (ev) requestAnimationFrame(() => st.stats.frame.push(performance.now() - ev.timeStamp));
    };
    const send = () => {  // z snapped to the sliders' step, shown as the sliders will show it
      const z = st.z.map((v) => Math.round(v / STEP) * STEP).map((v) => Math.round(v * 100) / 100);
      st.sent = z;
      moveTo(z);
      setTriggerValue("click", z);
    };
    st.canvas.style.touchAction = "none";
    st.canvas.addEventListener("pointerdown", (ev) => {
      const [px, py] = pos(ev);  // before focus: focusing must not scroll the page
      st.canvas.setPointerCapture(ev.pointerId);
      st.canvas.focus({ preventScroll: true });
      st.dragging = true;
      st.tip.style.display = "none";
      moveTo(toLatent(st, px, py), ev);
    });
    st.canvas.addEventListener("pointermove", (ev) => {
      const [px, py] = pos(ev);
      if (st.dragging) moveTo(toLatent(st, px, py), ev);
      else showTip(st, nearest(st, px, py), px, py);
    });
    const release = (ev) => {
      if (!st.dragging) return;
      st.dragging = false;
      send();
    };
    st.canvas.addEventListener("pointerup", release);
    st.canvas.addEventListener("pointercancel", release);
    st.canvas.addEventListener("mouseleave", () => { st.tip.style.display = "none"; });
    st.canvas.addEventListener("keydown", (ev) => {
      const d = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[ev.key];
      if (!d) return;
      ev.preventDefault();
      const step = ev.shiftKey ? 5 * STEP : STEP;
      const z = st.z || st.data.marker;
      moveTo([z[0] + d[0] * step, z[1] + d[1] * step], ev);
      clearTimeout(st.keyTimer);
      st.keyTimer = setTimeout(send, 250);
    });
  }
  // points and atlas come once per element (see genlab_ui.components.latent_map)
  if (data.x) st.points = { key: data.points_key, x: data.x, y: data.y, c: data.c,
                            atlas_cols: data.atlas_cols };
  if (!st.points || st.points.key !== data.points_key) {
    st.points = null;
    setTriggerValue("need_data", data.points_key);
    return;
  }
  st.data = { ...data, ...st.points };
  // adopt z from Python only when Python changed it (sliders moved), not when it echoes
  // back the value this pad sent, so keys pressed meanwhile are not undone
  const markerKey = JSON.stringify(data.marker);
  if (markerKey !== st.markerKey) {
    st.markerKey = markerKey;
    if (!st.dragging && markerKey !== JSON.stringify(st.sent)) st.z = data.marker;
  }
  if (!st.z) st.z = data.marker;
  if (data.decoder && st.decoderKey !== data.decoder.key) {
    st.decoderKey = data.decoder.key;
    loadDecoder(st, data.decoder).catch((err) => { st.liveText.textContent = `live decode unavailable: ${err}`; });
  }
  st.liveBox.style.display = data.decoder ? "block" : "none";
  if (data.atlas) {
    st.atlas = new Image();
    st.atlas.src = data.atlas.startsWith("app/") ? data.atlas : `data:image/png;base64,${data.atlas}`;
  }
  const size = data.size || 420;
  const dpr = window.devicePixelRatio || 1;
  if (st.size !== size) {
    st.size = size;
    st.canvas.width = size * dpr; st.canvas.height = size * dpr;
    st.canvas.style.width = `${size}px`; st.canvas.style.height = `${size}px`;
  }
  st.legend.innerHTML = data.classes.map((name, k) =>
    `<span><i style="background:${data.colors[k]}"></i>${name}</span>`).join("");
  draw(st);
  if (!st.dragging) drawLive(st, st.z);
}
