// genlab "first screen": mounted where a page's first screen ends. On the page's first run in a
// session, it waits until the first screen's images have loaded (at most 1.5 s), lets the browser
// paint, then tells the server, whose next run draws the rest of the page. Below the fold arrives
// after the first paint instead of competing with it (plotly's and vega's code, KaTeX, charts).
// body[data-genlab-fold] says where the page is: "<page>:painted" (the rest asked for) or
// "<page>:done" (the rest drawn); the benchmarks read it.
export default function (component) {
  const { data, setStateValue, parentElement } = component;
  if (data.painted) {
    document.body.dataset.genlabFold = `${data.page}:done`;
    return;
  }
  if (parentElement.__genlabFoldAsked === data.page) return;
  parentElement.__genlabFoldAsked = data.page;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]') || document;
  const pending = [...main.querySelectorAll("img")].filter((i) => !i.complete);
  const loaded = Promise.all(pending.map((i) => new Promise((done) => {
    i.addEventListener("load", done, { once: true });
    i.addEventListener("error", done, { once: true });
  })));
  const cap = new Promise((done) => setTimeout(done, 1500));
  const path = location.pathname;  // a run asked for after Back, Forward or a link would be the old page's
  Promise.race([loaded, cap]).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
    if (location.pathname !== path) return;  // left before it painted: its next visit asks again
    document.body.dataset.genlabFold = `${data.page}:painted`;
    setStateValue("painted", true);
  })));
}
