"""#25's long actions: each in a fresh process (cold caches), the page's script run time with
AppTest, and any job's duration. ``python benchmarks/long_actions.py gans|flows|dcgan``."""
import sys, time, json
sys.path.insert(0, ".")
from pathlib import Path
from streamlit.testing.v1 import AppTest
from genlab import checkpoints
from genlab_ui import jobs
what = sys.argv[1]
ROOT = Path(".").resolve()
def page(name, **state):
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=300)
    for k, v in state.items():
        at.session_state[k] = v
    return at
out = {}
if what == "gans":
    at = page("gans", dataset="mnist"); t = time.perf_counter(); at.run(); out["first_visit_run_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter(); js = jobs.wait_all(); out["jobs_s"] = round(time.perf_counter() - t, 2); out["jobs"] = [j.label for j in js]
elif what == "flows":
    folder = str(checkpoints.ROOT / "mnist" / "realnvp")
    at = page("flows", dataset="mnist", **{"model.flow.mnist": folder}); t = time.perf_counter(); at.run()
    out["first_realnvp_run_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter(); js = jobs.wait_all(); out["jobs_s"] = round(time.perf_counter() - t, 2); out["jobs"] = [j.label for j in js]
elif what == "dcgan":
    folder = str(checkpoints.ROOT / "mnist" / "dcgan")
    at = page("projections", dataset="mnist", **{"proj.source.mnist": folder}); t = time.perf_counter(); at.run()
    out["first_dcgan_projection_run_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter(); js = jobs.wait_all(); out["jobs_s"] = round(time.perf_counter() - t, 2)
    # in a warm server: the page open on pixels, then the source switched to the DCGAN's features
    at = page("projections", dataset="mnist"); at.run()
    classifier = str(checkpoints.ROOT / "mnist" / "classifier")
    for name, folder in (("dcgan", folder), ("classifier", classifier)):
        at.session_state[f"proj.source.mnist"] = folder
        t = time.perf_counter(); at.run(); out[f"switch_to_{name}_run_s"] = round(time.perf_counter() - t, 2)
out["exception"] = bool(at.exception)
print(what, json.dumps(out))
