// genlab latent sliders: one range input per latent dimension (most-used first), the
// image decoded in the browser on every input event (while the thumb moves); the full z
// goes back to Python when a thumb is released. Data: {dims [d...], labels [...], z [D],
// decoder spec, zmax, step}.

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let st = parentElement.__genlabSliders;
  if (!st) {
    const wrap = document.createElement("div");
    wrap.className = "ls-wrap";
    const rows = document.createElement("div");
    rows.className = "ls-rows";
    const live = document.createElement("canvas");
    live.width = 224; live.height = 224;
    live.className = "ls-live";
    const text = document.createElement("div");
    text.className = "ls-text";
    const side = document.createElement("div");
    side.append(live, text);
    wrap.append(rows, side);
    parentElement.appendChild(wrap);
    st = { rows, live, text, small: smallCanvas(), decoder: null, decoderKey: null, z: null,
           sent: null, zKey: null, stats: { frame: [], decode: [] } };
    live.genlabStats = st.stats;
    parentElement.__genlabSliders = st;
  }
  const redraw = (ev) => {
    if (!st.decoder) return;
    const t0 = performance.now();
    paintImage(st.live, st.small, decodeMLP(st.decoder, st.z));
    st.stats.decode.push(performance.now() - t0);
    if (ev) requestAnimationFrame(() => st.stats.frame.push(performance.now() - ev.timeStamp));
  };
  const zKey = JSON.stringify(data.z);
  if (zKey !== st.zKey) {  // Python changed z (reset, random): adopt it unless it echoes ours
    st.zKey = zKey;
    if (zKey !== JSON.stringify(st.sent) || !st.z) st.z = data.z.slice();
  }
  if (st.rows.childElementCount !== data.dims.length) {
    st.rows.innerHTML = "";
    data.dims.forEach((d, i) => {
      const row = document.createElement("label");
      row.className = "ls-row";
      const name = document.createElement("span");
      name.textContent = data.labels[i];
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: -data.zmax, max: data.zmax, step: data.step });
      input.dataset.dim = d;
      input.setAttribute("aria-label", data.labels[i]);
      const value = document.createElement("output");
      input.addEventListener("input", (ev) => {
        st.z[d] = parseFloat(input.value);
        value.textContent = st.z[d].toFixed(2);
        redraw(ev);
      });
      input.addEventListener("change", () => {
        st.sent = st.z.map((v) => Math.round(v * 100) / 100);
        setTriggerValue("change", st.sent);
      });
      row.append(name, input, value);
      st.rows.appendChild(row);
    });
  }
  st.rows.querySelectorAll("input").forEach((input) => {
    const d = Number(input.dataset.dim);
    input.value = st.z[d];
    input.nextSibling.textContent = st.z[d].toFixed(2);
  });
  st.text.textContent = "decoded in your browser";
  if (data.decoder && st.decoderKey !== data.decoder.key) {
    st.decoderKey = data.decoder.key;
    fetchDecoder(data.decoder).then((dec) => {
      st.decoder = dec;
      st.live.genlabDecode = (z) => Array.from(decodeMLP(dec, z));
      redraw(null);
    }).catch((err) => { st.text.textContent = `live decode unavailable: ${err}`; });
  }
  redraw(null);
}
