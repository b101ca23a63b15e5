// genlab latent map: a canvas scatter of encoded held-out images (coloured by class),
// hover shows the image under the pointer, click sends the latent point back to Python.
// Data from Python: {x, y, c (class index), thumbs (base64 uint8 N*784), classes,
// colors, marker [z1, z2], extra [{x, y, label}], range R (axes span [-R, R]), size}.
// The hover images come as one PNG atlas (atlas_cols images of 28x28 per row).

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
  wrap.append(canvas, tip, legend);
  root.appendChild(wrap);
  return { wrap, canvas, tip, tipCanvas, tipText, legend, data: null, atlas: null, atlasKey: null };
}

function toPixel(st, zx, zy) {
  const s = st.size, R = st.data.range;
  return [(zx + R) / (2 * R) * s, (R - zy) / (2 * R) * s];
}

function toLatent(st, px, py) {
  const s = st.size, R = st.data.range;
  return [px / s * 2 * R - R, R - py / s * 2 * R];
}

function draw(st) {
  const d = st.data, ctx = st.canvas.getContext("2d"), s = st.size, R = d.range;
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
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
  if (d.marker) {
    const [mx, my] = toPixel(st, d.marker[0], d.marker[1]);
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
    st.canvas.addEventListener("mousemove", (ev) => {
      const [px, py] = pos(ev);
      showTip(st, nearest(st, px, py), px, py);
    });
    st.canvas.addEventListener("mouseleave", () => { st.tip.style.display = "none"; });
    st.canvas.addEventListener("click", (ev) => {
      const [px, py] = pos(ev);
      const z = toLatent(st, px, py).map((v) => Math.round(v * 100) / 100);
      st.data = { ...st.data, marker: z };
      draw(st);
      setTriggerValue("click", z);
    });
  }
  st.data = data;
  if (st.atlasKey !== data.atlas_key) {
    st.atlas = new Image();
    st.atlas.src = `data:image/png;base64,${data.atlas}`;
    st.atlasKey = data.atlas_key;
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
}
