// genlab plot hover: the image under the pointer, as a tooltip beside a Plotly chart.
// Streamlit draws Plotly charts itself; this component finds the chart whose figure has
// layout.meta.genlab_hover === data.target and listens to its plotly_hover events. Each
// point's customdata is [atlas, index, caption]: the image is tile `index` of the PNG atlas
// data.atlases[atlas] = {url, cols} (28x28 tiles, fetched once, cached by the browser).

const SIZE = 84;  // tooltip image: 3x the 28-pixel tile
const atlasImages = new Map();  // url -> Image, shared by every chart on the page
const targets = new Map();  // target -> data sent by Python (the latest)

function atlasImage(url) {
  if (!atlasImages.has(url)) {
    const img = new Image();
    img.src = url;
    atlasImages.set(url, img);
  }
  return atlasImages.get(url);
}

function tooltip() {
  let tip = document.getElementById("genlab-plot-tip");
  if (!tip) {
    tip = document.createElement("div");
    tip.id = "genlab-plot-tip";
    tip.style.cssText = "position:fixed;display:none;pointer-events:none;z-index:100000;" +
      "background:#fff;border:1px solid #999;padding:4px;font:11px sans-serif;color:#222;" +
      "box-shadow:0 1px 4px rgba(0,0,0,.25)";
    const canvas = document.createElement("canvas");
    canvas.width = SIZE; canvas.height = SIZE;
    canvas.style.cssText = `display:block;width:${SIZE}px;height:${SIZE}px;image-rendering:pixelated`;
    const text = document.createElement("div");
    text.style.maxWidth = `${SIZE + 40}px`;
    tip.append(canvas, text);
    document.body.appendChild(tip);
  }
  return tip;
}

function show(gd, ev) {
  const d = targets.get(gd.layout.meta.genlab_hover);
  const p = ev.points && ev.points[0];
  const tip = tooltip();
  if (!d || !p || !Array.isArray(p.customdata)) { tip.style.display = "none"; return; }
  const [a, index, caption] = p.customdata;
  const spec = d.atlases[a];
  if (!spec) { tip.style.display = "none"; return; }
  const img = atlasImage(spec.url);
  const paint = () => {
    const ctx = tip.firstChild.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, (index % spec.cols) * 28, Math.floor(index / spec.cols) * 28, 28, 28,
                  0, 0, SIZE, SIZE);
  };
  if (img.complete) paint(); else img.onload = paint;
  tip.lastChild.textContent = caption || "";
  const e = ev.event || {};
  const x = (e.clientX || 0) + 18, y = (e.clientY || 0) - SIZE - 30;
  tip.style.left = `${Math.min(x, window.innerWidth - SIZE - 60)}px`;
  tip.style.top = `${Math.max(y, 4)}px`;
  tip.style.display = "block";
  gd.genlabHoverShown = (gd.genlabHoverShown || 0) + 1;  // for the browser tests
}

function attachAll() {
  let found = 0;
  for (const gd of document.querySelectorAll(".js-plotly-plot")) {
    const meta = gd.layout && gd.layout.meta;
    if (!meta || !targets.has(meta.genlab_hover) || typeof gd.on !== "function") continue;
    found += 1;
    if (gd.genlabHover) continue;
    gd.genlabHover = true;
    gd.on("plotly_hover", (ev) => show(gd, ev));
    gd.on("plotly_unhover", () => { tooltip().style.display = "none"; });
    gd.addEventListener("mouseleave", () => { tooltip().style.display = "none"; });
  }
  return found;
}

export default function (component) {
  const { data } = component;
  targets.set(data.target, data);
  for (const spec of data.atlases) if (spec) atlasImage(spec.url);
  // the chart may be drawn after this component: look for it for a few seconds
  let tries = 0;
  const look = () => { attachAll(); if (++tries < 40) setTimeout(look, 250); };
  look();
}
