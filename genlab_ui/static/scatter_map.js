// genlab scatter map: a canvas scatter plot for thousands of points, light enough to draw
// in the first second of a page (Plotly's bundle alone takes longer to parse).
// Data from Python (genlab_ui.components.scatter_map):
//   key: changes when the points change (the view is reset then, kept otherwise)
//   groups: [{name, color, symbol ("circle" | "x" | "diamond" | "triangle" | "square"),
//             size, atlas, x, y, index, caption}] — point i of a group shows tile
//             index[i] of atlases[atlas] on hover, captioned `${caption} #${index[i]}`
//   atlases: [{url, cols}] PNG atlases of 28x28 tiles; axis: [x title, y title]
//   pinned: [group, i] or null (drawn as a red ring); height (CSS px)
//   bars: optional {title, values, xlabel, ylabel}: a small bar chart with the running total
// Pointer: hover shows the image, click sends [atlas, index] as the "pick" trigger, drag
// pans, the wheel zooms, double-click resets the view. Legend: click hides or shows a
// group, double-click shows it alone.

const TIP = 84;
const atlasImages = new Map();

function atlasImage(url) {
  if (!atlasImages.has(url)) {
    const img = new Image();
    img.src = url;
    atlasImages.set(url, img);
  }
  return atlasImages.get(url);
}

function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

function fmt(v) {
  const a = Math.abs(v);
  return a >= 1000 || (a > 0 && a < 0.01) ? v.toExponential(0) : String(+v.toPrecision(3));
}

function drawSymbol(ctx, symbol, x, y, r) {
  ctx.beginPath();
  if (symbol === "x") {
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
    ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
    return "stroke";
  }
  if (symbol === "diamond") {
    ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r, y);
  } else if (symbol === "triangle") {
    ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.1, y + r * 0.8); ctx.lineTo(x - r * 1.1, y + r * 0.8);
  } else if (symbol === "square") {
    ctx.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
  } else {
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    return "fill";
  }
  ctx.closePath();
  return "fill";
}

function paintMark(ctx, g, x, y, r) {  // one point of group g, as on the map and in the legend
  const how = drawSymbol(ctx, g.symbol, x, y, r);
  if (how === "stroke") { ctx.stroke(); return; }
  ctx.fill();
  if (g.outline) { ctx.strokeStyle = g.outline; ctx.stroke(); ctx.strokeStyle = g.color; }
}

function legendMark(g) {  // the group's own symbol, drawn like its points
  const mark = document.createElement("canvas");
  const dpr = window.devicePixelRatio || 1, size = 12;
  mark.width = size * dpr; mark.height = size * dpr;
  mark.className = "sm-mark";
  mark.dataset.symbol = g.symbol || "circle";
  const ctx = mark.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = g.color; ctx.strokeStyle = g.color; ctx.lineWidth = g.symbol === "x" ? 2 : 1;
  paintMark(ctx, { ...g, outline: null }, size / 2, size / 2, 4);
  return mark;
}

function setup(root) {
  const wrap = document.createElement("div");
  wrap.className = "sm-wrap";
  const box = document.createElement("div");
  box.className = "sm-box";
  const canvas = document.createElement("canvas");
  canvas.className = "sm-canvas";
  canvas.setAttribute("role", "img");
  const tip = document.createElement("div");
  tip.className = "sm-tip";
  const tipCanvas = document.createElement("canvas");
  tipCanvas.width = TIP; tipCanvas.height = TIP;
  const tipText = document.createElement("div");
  tip.append(tipCanvas, tipText);
  box.append(canvas, tip);
  const legend = document.createElement("div");
  legend.className = "sm-legend";
  const hint = document.createElement("div");
  hint.className = "sm-hint";
  hint.textContent = "hover: image · click: pin · drag: pan · wheel: zoom · double-click: reset";
  const bars = document.createElement("canvas");
  bars.className = "sm-bars";
  wrap.append(box, legend, hint, bars);
  root.appendChild(wrap);
  return { wrap, box, canvas, tip, tipCanvas, tipText, legend, bars, hidden: new Set(),
           data: null, view: null, key: null, width: 0, hoverShown: 0 };
}

const PAD = { l: 52, r: 12, t: 10, b: 40 };

function fullView(d) {  // data bounds with 4% margin
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const g of d.groups) {
    for (let i = 0; i < g.x.length; i++) {
      x0 = Math.min(x0, g.x[i]); x1 = Math.max(x1, g.x[i]);
      y0 = Math.min(y0, g.y[i]); y1 = Math.max(y1, g.y[i]);
    }
  }
  if (!isFinite(x0)) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  const mx = (x1 - x0) * 0.04 || 1, my = (y1 - y0) * 0.04 || 1;
  return { x0: x0 - mx, x1: x1 + mx, y0: y0 - my, y1: y1 + my };
}

function plotSize(st) {
  return [st.width - PAD.l - PAD.r, st.height - PAD.t - PAD.b];
}

function toPixel(st, x, y) {
  const [w, h] = plotSize(st), v = st.view;
  return [PAD.l + (x - v.x0) / (v.x1 - v.x0) * w, PAD.t + (v.y1 - y) / (v.y1 - v.y0) * h];
}

function toData(st, px, py) {
  const [w, h] = plotSize(st), v = st.view;
  return [v.x0 + (px - PAD.l) / w * (v.x1 - v.x0), v.y1 - (py - PAD.t) / h * (v.y1 - v.y0)];
}

function draw(st) {
  const d = st.data, ctx = st.canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, st.width, st.height);
  const [w, h] = plotSize(st), v = st.view;
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#666"; ctx.strokeStyle = "#ececec"; ctx.lineWidth = 1;
  ctx.textAlign = "center";
  for (const t of niceTicks(v.x0, v.x1, Math.max(3, Math.round(w / 90)))) {
    const [px] = toPixel(st, t, 0);
    ctx.beginPath(); ctx.moveTo(px, PAD.t); ctx.lineTo(px, PAD.t + h); ctx.stroke();
    ctx.fillText(fmt(t), px, PAD.t + h + 14);
  }
  ctx.textAlign = "right";
  for (const t of niceTicks(v.y0, v.y1, Math.max(3, Math.round(h / 70)))) {
    const [, py] = toPixel(st, 0, t);
    ctx.beginPath(); ctx.moveTo(PAD.l, py); ctx.lineTo(PAD.l + w, py); ctx.stroke();
    ctx.fillText(fmt(t), PAD.l - 5, py + 4);
  }
  ctx.fillStyle = "#333"; ctx.font = "12px sans-serif"; ctx.textAlign = "center";
  ctx.fillText(d.axis[0], PAD.l + w / 2, st.height - 6);
  ctx.save(); ctx.translate(13, PAD.t + h / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText(d.axis[1], 0, 0); ctx.restore();
  ctx.textAlign = "left";
  ctx.save();
  ctx.beginPath(); ctx.rect(PAD.l, PAD.t, w, h); ctx.clip();
  d.groups.forEach((g, k) => {
    if (st.hidden.has(k)) return;
    const r = (g.size || 5) / 2 + 0.5;
    ctx.globalAlpha = g.opacity || 0.7;
    ctx.fillStyle = g.color; ctx.strokeStyle = g.color; ctx.lineWidth = g.symbol === "x" ? 2 : 1;
    for (let i = 0; i < g.x.length; i++) {
      const [px, py] = toPixel(st, g.x[i], g.y[i]);
      if (px < PAD.l - 10 || px > PAD.l + w + 10 || py < PAD.t - 10 || py > PAD.t + h + 10) continue;
      paintMark(ctx, g, px, py, r);
    }
  });
  ctx.globalAlpha = 1;
  const pin = d.pinned && d.groups[d.pinned[0]];
  if (pin && d.pinned[1] < pin.x.length) {
    const [px, py] = toPixel(st, pin.x[d.pinned[1]], pin.y[d.pinned[1]]);
    ctx.strokeStyle = "#ff2b2b"; ctx.lineWidth = 3;
    ctx.beginPath(); ctx.arc(px, py, 9, 0, 2 * Math.PI); ctx.stroke();
  }
  ctx.restore();
  ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1; ctx.strokeRect(PAD.l, PAD.t, w, h);
  st.drawn = (st.drawn || 0) + 1;
}

function drawBars(st) {
  const b = st.data.bars, c = st.bars;
  c.style.display = b ? "block" : "none";
  if (!b) return;
  const dpr = window.devicePixelRatio || 1, W = st.width, H = 230;
  c.width = W * dpr; c.height = H * dpr; c.style.width = `${W}px`; c.style.height = `${H}px`;
  const ctx = c.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  const p = { l: 52, r: 12, t: 26, b: 34 }, w = W - p.l - p.r, h = H - p.t - p.b;
  const n = b.values.length, bw = w / n;
  const y = (v) => p.t + (1 - v) * h;
  ctx.font = "13px sans-serif"; ctx.fillStyle = "#333"; ctx.fillText(b.title, p.l, 16);
  ctx.font = "11px sans-serif"; ctx.textAlign = "right"; ctx.strokeStyle = "#ececec";
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath(); ctx.moveTo(p.l, y(t)); ctx.lineTo(p.l + w, y(t)); ctx.stroke();
    ctx.fillStyle = "#666"; ctx.fillText(`${Math.round(t * 100)}%`, p.l - 5, y(t) + 4);
  }
  ctx.textAlign = "center";
  ctx.fillStyle = "#1f77b4";
  let total = 0;
  const pts = [];
  b.values.forEach((v, i) => {
    ctx.fillRect(p.l + i * bw + 1, y(v), Math.max(1, bw - 2), y(0) - y(v));
    total += v;
    pts.push([p.l + (i + 0.5) * bw, y(total)]);
  });
  ctx.fillStyle = "#666";
  for (const t of niceTicks(1, n, 10)) ctx.fillText(String(t), p.l + (t - 0.5) * bw, p.t + h + 14);
  ctx.fillStyle = "#333"; ctx.fillText(b.xlabel, p.l + w / 2, H - 4);
  ctx.strokeStyle = "#ff7f0e"; ctx.lineWidth = 2; ctx.beginPath();
  pts.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
  ctx.stroke();
  ctx.textAlign = "left"; ctx.font = "11px sans-serif";
  ctx.fillStyle = "#1f77b4"; ctx.fillRect(p.l + w - 190, 8, 10, 10);
  ctx.fillStyle = "#333"; ctx.fillText("per component", p.l + w - 176, 17);
  ctx.fillStyle = "#ff7f0e"; ctx.fillRect(p.l + w - 88, 12, 12, 3);
  ctx.fillStyle = "#333"; ctx.fillText("cumulative", p.l + w - 72, 17);
}

function nearest(st, px, py) {  // [group, i] of the visible point within 8 px, or null
  let best = null, bestD = 64;
  st.data.groups.forEach((g, k) => {
    if (st.hidden.has(k)) return;
    for (let i = 0; i < g.x.length; i++) {
      const [qx, qy] = toPixel(st, g.x[i], g.y[i]);
      const dd = (qx - px) ** 2 + (qy - py) ** 2;
      if (dd <= bestD) { bestD = dd; best = [k, i]; }  // later groups (samples) win ties
    }
  });
  return best;
}

function showTip(st, hit, px, py) {
  if (!hit) { st.tip.style.display = "none"; return; }
  const g = st.data.groups[hit[0]], index = g.index[hit[1]];
  const spec = st.data.atlases[g.atlas];
  st.tipText.textContent = `${g.caption} #${index}`;
  const ctx = st.tipCanvas.getContext("2d");
  ctx.clearRect(0, 0, TIP, TIP);
  if (spec) {
    const img = atlasImage(spec.url);
    const paint = () => {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(img, (index % spec.cols) * 28, Math.floor(index / spec.cols) * 28, 28, 28, 0, 0, TIP, TIP);
    };
    if (img.complete) paint(); else img.addEventListener("load", paint, { once: true });
  }
  st.tip.style.display = "block";
  st.tip.style.left = `${Math.min(px + 14, st.width - TIP - 50)}px`;
  st.tip.style.top = `${Math.max(py - TIP - 30, 0)}px`;
  st.hoverShown += 1;
  st.canvas.dataset.hoverShown = String(st.hoverShown);
}

function drawLegend(st) {
  st.legend.innerHTML = "";
  st.data.groups.forEach((g, k) => {
    const item = document.createElement("span");
    item.className = st.hidden.has(k) ? "sm-item sm-off" : "sm-item";
    item.title = "click: hide or show · double-click: show only this";
    item.append(legendMark(g), document.createTextNode(g.name));
    let timer = null;
    item.addEventListener("click", () => {  // wait: a double-click must not toggle twice
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (st.hidden.has(k)) st.hidden.delete(k); else st.hidden.add(k);
        drawLegend(st); draw(st);
      }, 220);
    });
    item.addEventListener("dblclick", () => {
      clearTimeout(timer);
      const alone = st.hidden.size === st.data.groups.length - 1 && !st.hidden.has(k);
      st.hidden = new Set(alone ? [] : st.data.groups.map((_, j) => j).filter((j) => j !== k));
      drawLegend(st); draw(st);
    });
    st.legend.appendChild(item);
  });
}

function listen(st, setTriggerValue) {
  const c = st.canvas;
  const pos = (ev) => { const r = c.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; };
  let drag = null;
  c.style.touchAction = "none";
  c.addEventListener("pointerdown", (ev) => {
    const [px, py] = pos(ev);
    drag = { px, py, view: { ...st.view }, moved: false };
    c.setPointerCapture(ev.pointerId);
  });
  c.addEventListener("pointermove", (ev) => {
    const [px, py] = pos(ev);
    if (!drag) { showTip(st, nearest(st, px, py), px, py); return; }
    if (Math.hypot(px - drag.px, py - drag.py) > 4) drag.moved = true;
    if (!drag.moved) return;
    const [w, h] = plotSize(st), v = drag.view;
    const dx = (px - drag.px) / w * (v.x1 - v.x0), dy = (py - drag.py) / h * (v.y1 - v.y0);
    st.view = { x0: v.x0 - dx, x1: v.x1 - dx, y0: v.y0 + dy, y1: v.y1 + dy };
    st.tip.style.display = "none";
    draw(st);
  });
  c.addEventListener("pointerup", (ev) => {
    const [px, py] = pos(ev);
    if (drag && !drag.moved) {
      const hit = nearest(st, px, py);
      if (hit) {
        const g = st.data.groups[hit[0]];
        st.data.pinned = hit;
        draw(st);
        setTriggerValue("pick", [g.atlas, g.index[hit[1]]]);
      }
    }
    drag = null;
  });
  c.addEventListener("pointercancel", () => { drag = null; });
  c.addEventListener("mouseleave", () => { st.tip.style.display = "none"; });
  c.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const [px, py] = pos(ev), [mx, my] = toData(st, px, py);
    const f = Math.exp(Math.sign(ev.deltaY) * 0.15), v = st.view;
    st.view = { x0: mx + (v.x0 - mx) * f, x1: mx + (v.x1 - mx) * f,
                y0: my + (v.y0 - my) * f, y1: my + (v.y1 - my) * f };
    st.tip.style.display = "none";
    draw(st);
  }, { passive: false });
  c.addEventListener("dblclick", () => { st.view = fullView(st.data); draw(st); });
}

function resize(st) {
  const width = Math.max(320, Math.floor(st.wrap.clientWidth || 640));
  const dpr = window.devicePixelRatio || 1;
  if (width === st.width && st.height === st.data.height && st.dpr === dpr) return false;
  st.width = width; st.height = st.data.height || 560; st.dpr = dpr;
  st.canvas.width = width * dpr; st.canvas.height = st.height * dpr;
  st.canvas.style.width = `${width}px`; st.canvas.style.height = `${st.height}px`;
  return true;
}

function show(st, data) {
  st.data = data;
  // the hover pictures (a PNG of every point's image, ~0.3 MB for 2,000) load once the page is
  // idle, or when the pointer comes over the map: not in the page's first paint
  const atlases = () => { for (const spec of st.data.atlases) if (spec) atlasImage(spec.url); };
  if (window.requestIdleCallback) requestIdleCallback(atlases, { timeout: 2000 }); else setTimeout(atlases, 500);
  st.canvas.addEventListener("pointerenter", atlases, { once: true });
  if (st.key !== data.key) {  // new points: fit the view to them
    st.key = data.key;
    st.view = fullView(data);
    st.hidden = new Set([...st.hidden].filter((k) => k < data.groups.length));  // legend choices stay
  }
  resize(st);
  st.canvas.dataset.xTitle = data.axis[0];
  st.canvas.dataset.points = String(data.groups.filter((g) => g.atlas === 0).reduce((n, g) => n + g.x.length, 0));
  st.canvas.dataset.firstX = JSON.stringify(data.groups.length ? data.groups[0].x.slice(0, 5) : []);
  st.canvas.setAttribute("aria-label", `Scatter map: ${data.axis[0]} by ${data.axis[1]}`);
  drawLegend(st);
  draw(st);
  drawBars(st);
}

// the switch: another map sent ahead, drawn the moment its radio option is picked (the rerun
// that follows draws the same map again, and everything else the choice changes)
function watchSwitch(st) {
  const box = st.switch ? document.querySelector(`.${st.switch.control}`) : null;
  if (box === st.switchBox) return;
  for (const type of ["click", "change"]) if (st.switchBox) st.switchBox.removeEventListener(type, st.onSwitch, true);
  st.switchBox = box;
  if (!box) return;
  st.onSwitch = (ev) => {  // a click on an option (Streamlit's radio handles it without a change
    // event), or a change of the focused option's input (the arrow keys)
    const option = ev.target && ev.target.closest && ev.target.closest('[data-testid="stRadioOption"]');
    const input = option ? option.querySelector('input[type="radio"]') : ev.target;
    if (st.switch && input && input.type === "radio" && input.value === st.switch.value && st.data !== st.switch.data) {
      show(st, st.switch.data);
      document.body.dataset.genlabInstant = String((Number(document.body.dataset.genlabInstant) || 0) + 1);
    }
  };
  for (const type of ["click", "change"]) box.addEventListener(type, st.onSwitch, true);
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  // sent as JSON text (the server keeps each map's text: the same map again costs no encoding)
  const payload = typeof component.data === "string" ? JSON.parse(component.data) : component.data;
  let st = parentElement.__genlabScatter;
  if (!st) {
    st = setup(parentElement);
    parentElement.__genlabScatter = st;
    listen(st, setTriggerValue);
    new ResizeObserver(() => { if (st.data && resize(st)) { draw(st); drawBars(st); } }).observe(st.wrap);
  }
  st.switch = payload.main ? payload.switch : null;
  show(st, payload.main || payload);
  watchSwitch(st);
}
