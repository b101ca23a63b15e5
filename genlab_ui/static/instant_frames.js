// genlab "instant frames": the pictures a slider shows at its neighbouring values, sent ahead by
// the server (static files, loaded in the background). When the slider moves (a key, a drag),
// the pictures of the new value replace the shown ones at once, in the same frame, instead of
// after the round trip of a rerun; the rerun still happens and redraws the same pictures (and
// everything else the value changes). A value without pictures here waits for the rerun, as
// before. Data: {control: the slider's st-key class, target: the st-key class of the container
// whose pictures (in order) are swapped, value: the value this run drew, frames: {value: [{src,
// caption}, …]}}.
//
// Two sliders may change the same pictures (/autoregressive's pixel row and column): the frames
// of one were drawn for the other's value at its last run. Once one has swapped the pictures,
// the other's frames are stale until a run sends it new ones, so it leaves its step to the rerun
// (a fast key on the second slider would otherwise flash a picture of the first one's old value).

function clock() {
  window.__genlabInstantClock = (window.__genlabInstantClock || 0) + 1;
  return window.__genlabInstantClock;
}

function lastSwap(target) {  // {by: the state that last swapped target's pictures, at: when}
  const all = (window.__genlabInstantTargets ||= new Map());
  if (!all.has(target)) all.set(target, { by: null, at: 0 });
  return all.get(target);
}

function frameFor(frames, value) {
  if (frames[value]) return frames[value];
  const v = Number(value);
  for (const [key, frame] of Object.entries(frames)) {  // floats: 0.7 vs "0.70"
    if (Math.abs(Number(key) - v) < 1e-6) return frame;
  }
  return null;
}

function show(s) {
  const input = s.box && s.box.querySelector('input[type="range"]');
  if (!input || !s.data) return;
  const value = input.value;
  if (s.shown !== null && Math.abs(Number(value) - Number(s.shown)) < 1e-9) return;
  const frame = frameFor(s.data.frames, value);
  if (!frame) return;
  const last = lastSwap(s.data.target);
  if (last.by !== null && last.by !== s && last.at > s.renderedAt) return;  // stale: see the top
  const ready = (part) => { const img = s.loaded.get(part.src); return img && img.complete && img.naturalWidth > 0; };
  if (!frame.every(ready)) return;  // not loaded (yet, or pruned on the server): the rerun draws it
  const boxes = document.querySelectorAll(`.${s.data.target} [data-testid="stImageContainer"]`);
  if (boxes.length !== frame.length) return;  // another layout: leave it to the rerun
  s.shown = value;
  frame.forEach((part, k) => {
    const img = boxes[k].querySelector("img");
    if (img && img.getAttribute("src") !== part.src) img.src = part.src;
    const caption = boxes[k].querySelector('[data-testid="stImageCaption"] p');
    if (caption && part.caption != null && caption.textContent !== part.caption) {
      caption.textContent = part.caption;
    }
  });
  s.swaps += 1;
  last.by = s;
  last.at = clock();
  document.body.dataset.genlabInstant = String((Number(document.body.dataset.genlabInstant) || 0) + 1);
}

export default function (component) {
  const { data, parentElement } = component;
  let s = parentElement.__genlabInstant;
  if (!s) {
    s = { data: null, box: null, observer: null, shown: null, swaps: 0, renderedAt: 0, loaded: new Map() };
    parentElement.__genlabInstant = s;
  }
  s.data = data;
  s.shown = String(data.value);  // what this run drew
  s.renderedAt = clock();
  (window.__genlabInstantDrawn ||= {})[data.control] = String(data.value);  // for the browser tests
  // load the pictures now, so that a swap finds them decoded
  const wanted = new Set();
  for (const frame of Object.values(data.frames)) {
    for (const part of frame) {
      wanted.add(part.src);
      if (!s.loaded.has(part.src)) {
        const img = new Image();
        img.src = part.src;
        s.loaded.set(part.src, img);
      }
    }
  }
  for (const src of [...s.loaded.keys()]) if (!wanted.has(src)) s.loaded.delete(src);
  const box = document.querySelector(`.${data.control}`);
  if (box !== s.box) {  // first run, or Streamlit drew the slider anew
    detach(s);
    s.box = box;
    if (box) {
      // React writes the input's value attribute as the thumb moves (keys and drags alike)
      s.observer = new MutationObserver(() => show(s));
      s.observer.observe(box, { subtree: true, attributes: true, attributeFilter: ["value", "aria-valuetext"] });
      s.onInput = () => show(s);
      box.addEventListener("input", s.onInput, true);
    }
  }
  show(s);  // the thumb moved on while this run was under way: its pictures again
  return () => detach(s);
}

function detach(s) {
  if (s.observer) s.observer.disconnect();
  if (s.box && s.onInput) s.box.removeEventListener("input", s.onInput, true);
  s.observer = null;
  s.onInput = null;
  s.box = null;
}
