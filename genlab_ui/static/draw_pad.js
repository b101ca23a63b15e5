// genlab drawing pad: draw light ink on black with a mouse, a finger or a pen (Pointer Events).
// The 280×280 canvas is averaged down to 28×28 grey levels after every stroke and sent as the
// component's "pixels" state (784 integers 0…255, row by row); Clear sends null. Undo keeps
// the last 30 strokes.
const SIZE = 280, CELLS = 28, BLOCK = SIZE / CELLS;

function downsample(ctx) {
  const rgba = ctx.getImageData(0, 0, SIZE, SIZE).data;
  const out = new Array(CELLS * CELLS).fill(0);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      out[Math.floor(y / BLOCK) * CELLS + Math.floor(x / BLOCK)] += rgba[(y * SIZE + x) * 4];
    }
  }
  return out.map((v) => Math.round(v / (BLOCK * BLOCK)));
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (parentElement.__genlabPad) return;
  parentElement.__genlabPad = true;
  const box = document.createElement("div");
  box.className = "gl-pad";
  const canvas = document.createElement("canvas");
  canvas.width = SIZE;
  canvas.height = SIZE;
  canvas.setAttribute("aria-label", "Drawing pad: draw with the mouse, a finger or a pen");
  canvas.setAttribute("role", "img");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, SIZE, SIZE); };
  clear();
  if (data && Array.isArray(data.pixels) && data.pixels.length === CELLS * CELLS) {
    data.pixels.forEach((v, i) => {  // the drawing this session already sent (the pad was re-mounted)
      ctx.fillStyle = `rgb(${v},${v},${v})`;
      ctx.fillRect((i % CELLS) * BLOCK, Math.floor(i / CELLS) * BLOCK, BLOCK, BLOCK);
    });
  }
  const bar = document.createElement("div");
  bar.className = "gl-pad-bar";
  const brushLabel = document.createElement("label");
  brushLabel.textContent = "Brush ";
  const brush = document.createElement("input");
  brush.type = "range"; brush.min = "10"; brush.max = "40"; brush.value = "22";
  brush.setAttribute("aria-label", "Brush size");
  brushLabel.append(brush);
  const undo = document.createElement("button");
  undo.type = "button"; undo.textContent = "Undo";
  const wipe = document.createElement("button");
  wipe.type = "button"; wipe.textContent = "Clear";
  bar.append(brushLabel, undo, wipe);
  box.append(canvas, bar);
  parentElement.append(box);

  const history = [];
  let drawing = false, last = null;
  const send = () => {
    const pixels = downsample(ctx);
    setStateValue("pixels", pixels.some((v) => v > 0) ? pixels : null);
    box.dataset.sent = String(Date.now());  // the tests wait for it
  };
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * SIZE / r.width, (e.clientY - r.top) * SIZE / r.height];
  };
  const line = (a, b, pressure) => {
    ctx.strokeStyle = "#fff"; ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.lineWidth = Number(brush.value) * (pressure > 0 && pressure !== 0.5 ? 0.5 + pressure : 1);
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
  };
  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    history.push(ctx.getImageData(0, 0, SIZE, SIZE));
    if (history.length > 30) history.shift();
    drawing = true; last = at(e);
    line(last, last, e.pressure);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    e.preventDefault();
    const p = at(e);
    line(last, p, e.pressure);
    last = p;
  });
  const end = () => { if (drawing) { drawing = false; send(); } };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  undo.addEventListener("click", () => { if (history.length) { ctx.putImageData(history.pop(), 0, 0); send(); } });
  wipe.addEventListener("click", () => { history.push(ctx.getImageData(0, 0, SIZE, SIZE)); clear(); send(); });
}
