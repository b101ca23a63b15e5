"""Re-walk every page on both datasets (run from the repo root: ``python benchmarks/walk.py``):
every slider to both ends, every selectbox/radio to another option, every (non-navigation)
button pressed, then reload, a sidebar link, back, forward and back again (the URL keeps the
dataset); after each action: no st.exception, no page error. Prints a line per page and a
summary."""
import re, sys, time, json
sys.path.insert(0, ".")
from benchmarks.browser import launch, streamlit_server, wait_idle, page_errors
from playwright.sync_api import sync_playwright

PAGES = ["home", "concepts", "playground", "vae", "diffusion", "transport", "gans", "flows", "autoregressive", "projections"]
SKIP_BUTTONS = re.compile(r"^(Run it|Train \d|Stop|Cancel|Deploy|Clear|Undo last)", re.I)
problems, actions, actions_per_page = [], 0, {}

def check(page, where):
    global actions
    actions += 1
    try:
        wait_idle(page, timeout_ms=120_000)
    except TypeError:
        wait_idle(page)
    exc = page.locator('[data-testid="stException"]').count()
    errs = page_errors(page)
    if exc or errs:
        problems.append({"where": where, "exceptions": exc, "errors": [str(e)[:200] for e in errs]})

def main_area(page):
    return page.locator('[data-testid="stMainBlockContainer"]')

with streamlit_server() as (url, _, _), sync_playwright() as p:
    b = launch(p)
    for dataset in ("mnist", "fashion-mnist"):
        for name in PAGES:
            t0 = time.perf_counter()
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/{name}?dataset={dataset}")
            check(page, f"{dataset}/{name} load")
            time.sleep(4); check(page, f"{dataset}/{name} load (after the URL's rerun and fragments)")
            main = main_area(page)
            n_sliders = main.get_by_role("slider").count()
            for i in range(min(n_sliders, 8)):
                s = main.get_by_role("slider").nth(i)
                try:
                    if not s.is_visible() or s.is_disabled(): continue
                    s.focus(); s.press("End"); check(page, f"{dataset}/{name} slider {i} End")
                    s = main.get_by_role("slider").nth(i); s.focus(); s.press("Home"); check(page, f"{dataset}/{name} slider {i} Home")
                except Exception as e:
                    problems.append({"where": f"{dataset}/{name} slider {i}", "driver": str(e)[:120]})
            n_sel = main.get_by_test_id("stSelectbox").count()
            for i in range(min(n_sel, 4)):
                try:
                    sel = main.get_by_test_id("stSelectbox").nth(i)
                    if not sel.is_visible(): continue
                    sel.click(); time.sleep(0.3)
                    page.keyboard.press("ArrowDown"); page.keyboard.press("Enter")
                    check(page, f"{dataset}/{name} select {i}")
                except Exception as e:
                    problems.append({"where": f"{dataset}/{name} select {i}", "driver": str(e)[:120]})
            radios = main.get_by_test_id("stRadio")
            for i in range(min(radios.count(), 4)):
                try:
                    labels = radios.nth(i).locator("label")
                    if labels.count() > 1 and radios.nth(i).is_visible():
                        labels.nth(labels.count() - 1).click(); check(page, f"{dataset}/{name} radio {i}")
                        if name == "playground": labels.nth(0).click(); check(page, f"{dataset}/{name} radio {i} back")
                except Exception as e:
                    problems.append({"where": f"{dataset}/{name} radio {i}", "driver": str(e)[:120]})
            buttons = main.get_by_role("button")
            seen = set()
            for i in range(min(buttons.count(), 12)):
                try:
                    btn = main.get_by_role("button").nth(i)
                    label = (btn.inner_text() or "").strip()
                    if not label or label in seen or SKIP_BUTTONS.search(label) or not btn.is_visible() or btn.is_disabled():
                        continue
                    seen.add(label)
                    btn.click(timeout=5000); time.sleep(0.3); check(page, f"{dataset}/{name} button {label!r}")
                except Exception as e:
                    problems.append({"where": f"{dataset}/{name} button {i}", "driver": str(e)[:120]})
            # reload, then away through the sidebar, back and forward: the page and the dataset stay
            for step, act in (("reload", lambda: page.reload()),
                              ("sidebar link", lambda: page.get_by_test_id("stSidebar").get_by_role("link")
                               .nth((PAGES.index(name) + 1) % len(PAGES)).click()),
                              ("back", lambda: page.go_back()), ("forward", lambda: page.go_forward()),
                              ("back again", lambda: page.go_back())):
                try:
                    act(); time.sleep(1.5); check(page, f"{dataset}/{name} {step}")
                    if f"dataset={dataset}" not in page.url:
                        problems.append({"where": f"{dataset}/{name} {step}", "url": page.url})
                except Exception as e:
                    problems.append({"where": f"{dataset}/{name} {step}", "driver": str(e)[:120]})
            if f"/{name}" not in page.url and not (name == "home" and page.url.split("?")[0].rstrip("/") == url):
                problems.append({"where": f"{dataset}/{name} back again", "url": page.url})
            actions_per_page[f"{dataset}/{name}"] = actions
            print(f"{dataset}/{name}: {time.perf_counter() - t0:.0f} s, {n_sliders} sliders, {n_sel} selects, problems so far {len(problems)}", flush=True)
            page.close()
print("actions", actions)
print(json.dumps(problems, indent=1))
