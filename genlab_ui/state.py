"""Session state in one place, and the sidebar picker shared by every page."""

from __future__ import annotations

import functools
import threading
import time
from typing import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from genlab.data import DATASETS
from genlab_ui import loaders

WARM_UP_DELAY_S = 2.0
STALE_WINDOW_S = 5.0  # how long a value set from a callback holds against the browser's old one
DATASET_LABELS = {"mnist": "MNIST (digits)", "fashion-mnist": "Fashion-MNIST (clothes)"}


def datasets() -> list[str]:
    """The built-in datasets, then the folders of your images that a checkpoint was trained on
    (``genlab train … --dataset images``)."""
    return [*DATASETS, *loaders.custom_datasets()]


def dataset_label(name: str) -> str:
    return DATASET_LABELS.get(name) or f"{name} (your images)"


def init_state() -> None:
    """Defaults of every app-wide key; pages call their own init for page keys. A new session
    (a reload, a shared link) starts on the dataset named in the URL (``?dataset=``)."""
    if "dataset" not in st.session_state:
        asked = st.query_params.get("dataset")
        known = datasets()
        st.session_state["dataset"] = asked if asked in known else DATASETS[0]
        if asked is not None and asked not in known:
            _dropped().append(f"dataset={asked}")


# --- the URL: a link reproduces the view ---------------------------------------------------------
# Pages bind their widgets to the URL (``bind="query-params"``: Streamlit writes a widget's value
# into the URL as it changes, reads it back in a new session, and drops values the widget cannot
# take); the sidebar's pickers go through ``persistent_choice(…, url=…)``. What a link asked
# for that did not fit is reported once, by ``report_dropped_params`` after the page has run.

URL_KEYS = ("dataset", "embed", "embed_options")  # parameters that belong to no widget


def _dropped() -> list[str]:
    return st.session_state.setdefault("_url_dropped", [])


def note_url_params(page: str) -> None:
    """The URL's parameters as page ``page`` (its URL path) found them (call before it runs).
    Kept until a run reports on them: a run stopped midway (a newer run asked for, e.g. by the
    first-screen component, before this one reached its end) would otherwise take the link's
    refused values with it, since Streamlit removes those from the URL as the widgets run.
    The page is named by its URL path, the same in every run (the run context's page hash,
    read before the page runs, need not be: a first run's request names the page by its path)."""
    kept = st.session_state.get("_url_asked")
    if kept is None or kept[0] != page:  # nothing pending, or pending for a page left since
        st.session_state["_url_asked"] = (page, st.query_params.to_dict())


def report_dropped_params() -> None:
    """One short notice for what a link asked that this page could not use: values a bound
    widget refused (Streamlit removed them from the URL), parameters no widget here knows
    (removed now), and an unknown dataset or model."""
    if st.session_state.pop("_url_report_later", False) and "_url_asked" in st.session_state:
        return  # a first screen alone: the run that draws the rest reports (see report_later)
    dropped = _dropped()
    _, before = st.session_state.pop("_url_asked", (None, {}))
    for name, value in before.items():
        if name in URL_KEYS or name.startswith("_"):
            continue
        if name not in st.query_params:
            if not _holds(name, value):  # gone from the URL, yet taken: a default value
                dropped.append(f"{name}={value}")
        elif name not in st.session_state and name not in st.session_state.get("_url_names", ()):
            del st.query_params[name]
            dropped.append(f"{name}={value}")
    if dropped:
        dropped[:] = dict.fromkeys(dropped)  # a value refused in a stopped run and again
        shown = ", ".join(dropped[:4]) + (f" and {len(dropped) - 4} more" if len(dropped) > 4 else "")
        st.toast(f"Some settings in the link do not fit here and were left at their defaults: {shown}",
                 icon="🔗", duration="long")  # time to read what was dropped
        dropped.clear()


def _holds(name: str, asked: str) -> bool:
    """Whether the link's ``name=asked`` was taken though it is no longer in the URL: a bound
    widget's default value (Streamlit keeps only values other than the default in the URL), or
    a picker's default (``persistent_choice``)."""
    if (name, asked) in st.session_state.get("_url_accepted", ()):
        return True
    if name not in st.session_state:
        return False
    value = st.session_state[name]
    if isinstance(value, (list, tuple)):
        return asked in map(str, value)
    try:
        return float(value) == float(asked)
    except (TypeError, ValueError):
        return str(value).lower() == asked.lower()


def report_later() -> None:
    """This run draws the page's first screen alone and the browser asks for the rest right
    after (``components.below_the_fold``): leave the link's notice to that run. A toast sent
    now would be gone with it, as a rerun clears the elements its run did not draw again."""
    st.session_state["_url_report_later"] = True


def stop() -> None:
    """``st.stop()`` for a page that ends early: the link's notice first (nothing a stopped run
    calls after ``st.stop`` reaches the browser)."""
    report_dropped_params()
    st.stop()


def resend_url() -> None:
    """Send the browser the URL this run was asked with (first thing of every run, fragments'
    own runs included: see ``fragment``; the browser does nothing when it shows it already).

    A run writes the whole query string it knows, and it knows the URL as it was when the run
    was asked for. A value the browser wrote meanwhile (a bound widget changed while a run was
    in flight, e.g. a seed's "+" while the part below the fold was being drawn) was then
    dropped from the URL by the older run's late write, though the widget kept it, and a
    copied link lost it. The change asked for a run of its own, with the URL as the browser
    had it; that run's messages reach the browser after every message of the older one, so
    its first word puts the value back.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    if not ctx.fragment_ids_this_run:  # a page's run: not after a page switch, whose URL
        last, st.session_state["_url_page"] = st.session_state.get("_url_page"), ctx.page_script_hash
        if last != ctx.page_script_hash:  # is Streamlit's own to write
            return
    with ctx.session_state.query_params() as params:
        _bound_values_into(ctx, params)
        params._send_query_param_msg()  # no public call sends params bound to widgets


def _bound_values_into(ctx, params) -> None:
    """Make the query string this run sends agree with the bound widgets' values, as Streamlit
    would write them (in the URL only when not the widget's default). A run's query string is
    the URL when the browser asked for it, and the browser can ask before its URL shows a
    click: a "+" on the seed that fell on an older run's last URL write (which did not know the
    new seed) asked for its fragment's run with the URL that write left, without the seed,
    though the widget had it. Streamlit internals (1.67); without them the URL is sent as it is."""
    try:
        metadata = ctx.session_state._state._new_widget_state.widget_metadata
        bindings = list(params._bindings_by_param.items())
        from streamlit.runtime.state.query_params import _coerce_value_for_query_url
    except (AttributeError, ImportError):
        return
    for key, binding in bindings:
        meta = metadata.get(binding.widget_id)
        if meta is None or key not in st.session_state:
            continue
        value = st.session_state[key]
        if value == meta.deserializer(None):
            params._query_params.pop(key, None)
        else:
            params._query_params[key] = _coerce_value_for_query_url(meta.serializer(value), meta.value_type)


def painted(kept) -> bool:
    """Whether a first-screen component's state (``components.below_the_fold``) says the
    browser has painted the first screen and asked for the rest."""
    return bool(kept.get("painted") if isinstance(kept, dict) else getattr(kept, "painted", False))


def fold_pending(key: str | None) -> None:
    """Called by each run of a page that defers its lower part: ``key`` is its first-screen
    component's state while the rest is still to be drawn, None once a run has drawn it."""
    ctx = get_script_run_ctx()
    if key is None:
        st.session_state.pop("_fold_pending", None)
    elif ctx is not None:
        st.session_state["_fold_pending"] = (ctx.page_script_hash, key)


def _rest_lost(ctx) -> bool:
    """The browser asked for the rest of the page, yet this is a fragment's run: a click inside
    a fragment that fell on the moment the first screen asked for the rest reruns the fragment
    alone with the "painted" state (one message for both), and no run would draw the rest."""
    pending = st.session_state.get("_fold_pending")
    return bool(pending and pending[0] == ctx.page_script_hash and painted(st.session_state.get(pending[1])))


def set_widgets(values: dict) -> None:
    """Set widgets' values from a callback (a click on the VAE's map moves its sliders), so
    that they hold against what the browser sent before it saw them.

    The browser sends every widget's value with each request for a run, and until the run
    that set them reaches it, it still has the old ones. A second request in that moment (the
    page asking for its part below the fold, an expander opened) then put the sliders back
    and lost the click, on the server only: the pad kept the clicked z, the decoded image
    the old one. ``hold_widgets`` at the start of each run restores the set value when the
    browser's is the old one, within ``STALE_WINDOW_S``."""
    pending = st.session_state.setdefault("_set_widgets", {})
    now = time.monotonic()
    for key, value in values.items():
        pending[key] = (st.session_state.get(key), value, now)
        st.session_state[key] = value


def hold_widgets() -> None:
    """First thing of every run (app.py's, ``fragment``'s): undo the browser's stale values
    of widgets ``set_widgets`` set (see there). Each is forgotten when the browser sends a
    third value (the user moved it since), or after ``STALE_WINDOW_S``: within it, moving a
    widget back to exactly its value before the click is undone too."""
    pending = st.session_state.get("_set_widgets")
    if not pending:
        return
    now = time.monotonic()
    for key, (old, new, when) in list(pending.items()):
        current = st.session_state.get(key)
        if now - when > STALE_WINDOW_S or current not in (old, new):  # another value since
            del pending[key]
        elif current == old != new:
            st.session_state[key] = new  # a request sent before the browser had the new value


def fragment(func: Callable | None = None, *, run_every: float | None = None):
    """``st.fragment`` whose own reruns start with ``resend_url``, as the page's runs do (a
    click inside a fragment reruns the fragment alone, after the page's run in flight), and
    turn into a run of the whole page when the rest of the page was asked for and not drawn."""
    def wrap(body: Callable) -> Callable:
        @functools.wraps(body)
        def run(*args, **kwargs):
            ctx = get_script_run_ctx()
            if ctx is not None and ctx.fragment_ids_this_run:
                if _rest_lost(ctx):
                    st.rerun(scope="app")
                hold_widgets()
                resend_url()
            return body(*args, **kwargs)
        return st.fragment(run, run_every=run_every)
    return wrap if func is None else wrap(func)


def keep_in_url() -> None:
    """Write the app-wide choices into the URL, so that a reload keeps them (the dataset; the
    pages' own settings are not in the URL)."""
    if st.query_params.get("dataset") != st.session_state["dataset"]:
        st.query_params["dataset"] = st.session_state["dataset"]


def page_link(page, label: str, icon: str | None = None, where=st) -> None:
    """A link to another page that keeps the dataset in the URL: one history entry, so the
    browser's Back returns to the page before (a page switch clears the URL's parameters,
    and writing them again afterwards would add a second entry)."""
    where.page_link(page, label=label, icon=icon, query_params={"dataset": st.session_state["dataset"]})


def page_links(pages: list) -> None:
    """The app's menu (in the sidebar): a link per page, the dataset kept in each."""
    for page in pages:
        page_link(page, page.title, page.icon)


def page_setup() -> None:
    """First call of every page: shared state, and a run through app.py.

    On a fresh server Streamlit runs a pages/ script directly for the very first request
    (its pages-directory mode stays on until ``st.navigation`` is first called), which
    would skip app.py's navigation and sidebar. Switch that mode off and rerun.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    init_state()
    warm_up()


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server, in the background, after the first page has had time to render: a
    first step of every 2-D family. torch's first optimizer imports torch._dynamo (~1.5 s
    here), which would otherwise delay the first Train of any page."""
    def run() -> None:
        time.sleep(WARM_UP_DELAY_S)
        from genlab import playground
        from genlab.sample import generator
        from genlab.toy import toy_data

        points = toy_data("moons", 512, generator(0)).numpy()
        for name in playground.TOY_FAMILIES:
            playground.ToyRun(name, points, 0).train(1)

    thread = threading.Thread(target=run, name="genlab-warm-up", daemon=True)
    thread.start()
    return thread


def _keep(key: str) -> None:
    # widget state is dropped on pages where the widget is not drawn: keep a copy
    st.session_state[key] = st.session_state[f"_w_{key}"]


RADIO_MAX = 5  # up to this many options a choice is radio buttons, beyond it a selectbox


def persistent_choice(label: str, options: list, key: str, *, where=st.sidebar,
                      format_func=str, help: str | None = None, url: str | None = None,
                      radio: bool = True, chips: bool = False):
    """A choice whose value survives page switches (stored under ``key``): radio buttons for a
    few options (every one visible, one click; and a page's first screen with a selectbox
    loads the selectbox's code: 90 ms more on a new visit here, docs/benchmarks.md), else a
    selectbox (always with ``radio=False``: a narrow column beside other controls); with
    ``chips``, one chip per option, which wrap where the column is narrow (``st.pills``, one
    always picked). With ``url``, kept in the URL as ``?<url>=<its label>`` and taken from
    there by a new session's link."""
    if url is not None:
        st.session_state.setdefault("_url_names", set()).add(url)
        asked = st.query_params.get(url)
        applied = st.session_state.setdefault("_url_applied", set())
        if asked is not None and (url, asked) not in applied:
            applied.add((url, asked))
            match = [o for o in options if format_func(o) == asked]
            if match:
                st.session_state[key] = match[0]
                st.session_state.setdefault("_url_accepted", set()).add((url, asked))
            else:
                _dropped().append(f"{url}={asked}")
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    st.session_state[f"_w_{key}"] = st.session_state[key]
    if chips:
        value = where.pills(label, options, selection_mode="single", required=True, key=f"_w_{key}", wrap=True,
                            on_change=_keep, args=(key,), format_func=format_func, help=help)
    else:
        widget = where.radio if radio and len(options) <= RADIO_MAX else where.selectbox
        value = widget(label, options, key=f"_w_{key}", on_change=_keep, args=(key,),
                       format_func=format_func, help=help)
    if url is not None:  # like a bound widget: in the URL only when it is not the default, so
        # that a page's first run writes nothing (a write then could undo a bound widget's update)
        wanted = None if value == options[0] else format_func(value)
        if wanted is None and url in st.query_params:
            del st.query_params[url]
        elif wanted is not None and st.query_params.get(url) != wanted:
            st.query_params[url] = wanted
            st.session_state.setdefault("_url_applied", set()).add((url, wanted))
    return value


def dataset_picker() -> str:
    """The sidebar dataset choice, shared by all pages."""
    dataset = persistent_choice("Dataset", datasets(), "dataset", format_func=dataset_label,
                                help="Every page shows the models trained on this dataset.")
    if dataset not in DATASETS:
        st.sidebar.caption(f"**{dataset}**: your images, {len(loaders.bundled(dataset)[1])} held out"
                           + ("" if loaders.has_labels(dataset) else
                              ". **No class labels** (no class subfolders): maps have one colour, and what "
                              "needs classes (guidance, a class per image, the classifier's scores) is off")
                           + ".")
    return dataset


def model_picker(family: str, prefer: str | None = None) -> dict | None:
    """The sidebar model choice for one family on the current dataset (a catalogue row); the
    checkpoint named ``prefer`` is the default where it is installed."""
    dataset = st.session_state["dataset"]
    rows = loaders.models_for(dataset, family)
    if not rows:
        st.sidebar.info(f"No {family} checkpoint for {dataset} is installed.")
        return None
    names = sorted((row["folder"] for row in rows), key=lambda f: f.rsplit("/", 1)[-1] != prefer)
    folder = persistent_choice("Model", names, f"model.{family}.{dataset}",
                               format_func=lambda f: f.rsplit("/", 1)[-1], url="model")
    return next(row for row in rows if row["folder"] == folder)
