// genlab toy panels: side-by-side square canvas panels of 2-D points, each with a loss curve
// under it. Drawn in a few milliseconds, so a live view that repaints every second while a
// training shares the CPU stays responsive (an SVG chart of the same points takes ~10× longer).
// Data from Python (genlab_ui.components.toy_panels):
//   run: what the panels show (a new run resets the replay to its last frame)
//   lim: the planes' half-width (every panel shows [-lim, lim]²); height: a panel's side (CSS px)
//   panels: [{title, layers: [{x, y, color, size}], loss: {x, y, color, label} | null,
//             frames (optional): {label, total, color, steps: [step], x: [[...]], y: [[...]]}}]
// With frames, a replay bar on top (play, and a slider over the frames) moves every panel
// together: its points are the frame's samples, drawn over its layers, the title says the
// frame's step, and a marker on the loss curve shows where that step is.

const LOSS_H = 120;
const LOSS_PAD = { l: 44, r: 8, t: 8, b: 20 };

function el(tag, className) {
  const e = document.createElement(tag);
  e.className = className;
  return e;
}

function setup(root) {
  const bar = el("div", "tp-bar"), play = el("button", "tp-play"), slider = el("input", "tp-slider");
  const text = el("span", "tp-frame"), wrap = el("div", "tp-wrap");
  play.textContent = "▶ replay";
  slider.type = "range"; slider.min = "0"; slider.step = "1";
  slider.setAttribute("aria-label", "Replay frame");
  bar.append(play, slider, text);
  root.append(bar, wrap);
  const st = { bar, play, slider, text, wrap, cells: [], frame: null, timer: null };
  slider.addEventListener("input", () => { stop(st); st.frame = +slider.value; draw(st); });
  play.addEventListener("click", () => {
    if (st.timer) { stop(st); return; }
    if (st.frame >= frameCount(st.data) - 1) st.frame = 0;
    play.textContent = "❚❚ pause";
    st.timer = setInterval(() => {
      st.frame += 1;
      draw(st);
      if (st.frame >= frameCount(st.data) - 1) stop(st);
    }, 180);
  });
  return st;
}

function stop(st) {
  if (st.timer) clearInterval(st.timer);
  st.timer = null;
  st.play.textContent = "▶ replay";
}

function frameCount(d) {
  return Math.max(0, ...d.panels.map((p) => (p.frames ? p.frames.steps.length : 0)));
}

function cell(st, i) {  // the i-th panel's elements, made once and kept across updates
  while (st.cells.length <= i) {
    const c = { box: el("div", "tp-cell"), title: el("div", "tp-title"), plane: el("canvas", "tp-plane"),
                loss: el("canvas", "tp-loss") };
    c.plane.setAttribute("role", "img");
    c.box.append(c.title, c.plane, c.loss);
    st.wrap.appendChild(c.box);
    st.cells.push(c);
  }
  return st.cells[i];
}

function sized(canvas, width, height) {  // a canvas of CSS size width × height at the screen's density
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

function drawPlane(canvas, panel, lim, side, frame) {
  const ctx = sized(canvas, side, side);
  const px = (v) => ((v + lim) / (2 * lim)) * side;
  const py = (v) => ((lim - v) / (2 * lim)) * side;
  ctx.strokeStyle = "#e6e9ef";
  ctx.strokeRect(0.5, 0.5, side - 1, side - 1);
  const layers = [...panel.layers];
  if (frame !== null) layers.push({ x: panel.frames.x[frame], y: panel.frames.y[frame], color: panel.frames.color });
  for (const layer of layers) {
    const r = (layer.size || 3) / 2;
    ctx.fillStyle = layer.color;
    for (let i = 0; i < layer.x.length; i++) {
      ctx.beginPath();
      ctx.arc(px(layer.x[i]), py(layer.y[i]), r, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function fmt(v) {
  const a = Math.abs(v);
  return a >= 1000 || (a > 0 && a < 0.01) ? v.toExponential(1) : String(+v.toPrecision(3));
}

function drawLoss(canvas, loss, width, marker) {
  if (!loss || loss.x.length < 2) { canvas.style.display = "none"; return; }
  canvas.style.display = "block";
  const ctx = sized(canvas, width, LOSS_H);
  const w = width - LOSS_PAD.l - LOSS_PAD.r, h = LOSS_H - LOSS_PAD.t - LOSS_PAD.b;
  const x0 = loss.x[0], x1 = loss.x[loss.x.length - 1] || 1;
  let y0 = Infinity, y1 = -Infinity;
  for (const v of loss.y) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
  if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
  const px = (v) => LOSS_PAD.l + ((v - x0) / (x1 - x0 || 1)) * w;
  const py = (v) => LOSS_PAD.t + ((y1 - v) / (y1 - y0)) * h;
  ctx.strokeStyle = "#ccc";
  ctx.beginPath();
  ctx.moveTo(LOSS_PAD.l, LOSS_PAD.t); ctx.lineTo(LOSS_PAD.l, LOSS_PAD.t + h); ctx.lineTo(LOSS_PAD.l + w, LOSS_PAD.t + h);
  ctx.stroke();
  ctx.fillStyle = "#666";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "right";
  ctx.fillText(fmt(y1), LOSS_PAD.l - 4, LOSS_PAD.t + 9);
  ctx.fillText(fmt(y0), LOSS_PAD.l - 4, LOSS_PAD.t + h);
  ctx.fillText(`step ${Math.round(x1).toLocaleString("en")}`, LOSS_PAD.l + w, LOSS_H - 5);
  ctx.textAlign = "left";
  ctx.fillText(loss.label, LOSS_PAD.l + 4, LOSS_H - 5);
  ctx.strokeStyle = loss.color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  loss.x.forEach((x, i) => (i ? ctx.lineTo(px(x), py(loss.y[i])) : ctx.moveTo(px(x), py(loss.y[i]))));
  ctx.stroke();
  if (marker !== null && marker !== undefined) {
    ctx.strokeStyle = "#555";
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(px(marker), LOSS_PAD.t); ctx.lineTo(px(marker), LOSS_PAD.t + h);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

function draw(st) {
  const d = st.data, n = d.panels.length, frames = frameCount(d);
  st.bar.style.display = frames ? "flex" : "none";
  if (frames) {
    st.slider.max = String(frames - 1);
    st.slider.value = String(st.frame);
    st.text.textContent = `frame ${st.frame + 1} of ${frames}`;
  }
  const gap = 16;
  const width = Math.max(200, st.wrap.clientWidth || 900);
  const side = Math.max(120, Math.min(d.height || 340, Math.floor((width - gap * (n - 1)) / n)));
  d.panels.forEach((panel, i) => {
    const c = cell(st, i);
    c.box.style.display = "";
    c.box.style.width = `${side}px`;
    const f = panel.frames ? Math.min(st.frame, panel.frames.steps.length - 1) : null;
    const title = f === null ? panel.title
      : `${panel.frames.label} · step ${panel.frames.steps[f].toLocaleString("en")} of ${panel.frames.total.toLocaleString("en")}`;
    c.title.textContent = title;
    c.plane.setAttribute("aria-label", title);
    drawPlane(c.plane, panel, d.lim, side, f);
    drawLoss(c.loss, panel.loss, side, f === null ? null : panel.frames.steps[f]);
  });
  st.cells.slice(n).forEach((c) => { c.box.style.display = "none"; });
}

export default function (component) {
  const { data, parentElement } = component;
  let st = parentElement.__genlabToyPanels;
  if (!st) {
    st = setup(parentElement);
    parentElement.__genlabToyPanels = st;
    let width = 0;
    new ResizeObserver(() => {
      const w = st.wrap.clientWidth;
      if (st.data && w !== width) { width = w; draw(st); }
    }).observe(st.wrap);
  }
  const frames = frameCount(data);
  if (st.frame === null || st.run !== data.run || st.frame >= frames) {
    st.run = data.run;
    stop(st);
    st.frame = Math.max(0, frames - 1);  // new frames: show the last (what was learned)
  }
  st.data = data;
  draw(st);
}
