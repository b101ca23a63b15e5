// genlab "first screen": mounted where a page's first screen ends. On the page's first run in a
// session, it waits until the first screen is drawn (no element still waiting for its code: Streamlit
// shows a placeholder, stSkeleton, meanwhile) and its images have loaded (at most 1.5 s in all), lets
// the browser paint, then tells the server, whose next run draws the rest of the page. Below the fold arrives
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
  // an element whose code is still loading is a placeholder, and its images are not in the page
  // yet: a run asked for now would mark the first screen stale while it is still being drawn
  const drawn = new Promise((done) => {
    const check = () => (main.querySelector('[data-testid="stSkeleton"]') ? requestAnimationFrame(check) : done());
    check();
  });
  const loaded = drawn.then(() => Promise.all([...main.querySelectorAll("img")].filter((i) => !i.complete).map(
    (i) => new Promise((done) => {
      i.addEventListener("load", done, { once: true });
      i.addEventListener("error", done, { once: true });
    }))));
  const cap = new Promise((done) => setTimeout(done, 1500));
  const path = location.pathname;  // a run asked for after Back, Forward or a link would be the old page's
  Promise.race([loaded, cap]).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
    if (location.pathname !== path) return;  // left before it painted: its next visit asks again
    document.body.dataset.genlabFold = `${data.page}:painted`;
    setStateValue("painted", true);
  })));
}
