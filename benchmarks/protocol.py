"""A Streamlit session without a browser: the websocket messages a browser tab exchanges with
the server (protobuf BackMsg / ForwardMsg), for load that costs the server what a person's tab
costs it, without a Chromium renderer per session on the same two cores.

The server cannot tell these sessions from browser tabs: each one opens the page, then sends
the widget changes a tab sends (a fragment rerun with the new widget state) and waits for the
elements the rerun sends back.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


@dataclass
class Element:
    kind: str  # the element's proto type: "slider", "imgs", "radio", ...
    fragment: str  # the fragment that drew it ("" outside fragments)
    proto: object  # the element's own proto (e.g. a Slider), for its id and value

    @property
    def id(self) -> str:
        return getattr(self.proto, "id", "")

    def captions(self) -> list[str]:
        return [i.caption for i in self.proto.imgs] if self.kind == "imgs" else []


@dataclass
class Run:
    """One script run as the server sent it: its elements and how long it took."""

    elements: list[Element] = field(default_factory=list)
    seconds: float = 0.0
    status: int | None = None
    bytes: int = 0  # the messages' size on the wire (uncompressed)

    def widget(self, key: str) -> Element:
        """The widget created with ``key=key`` (its id ends with the key)."""
        for e in self.elements:
            if e.id.endswith(f"-{key}"):
                return e
        shown = ", ".join(dict.fromkeys(e.kind for e in self.elements))
        raise LookupError(f"no widget with key {key!r} in this run (status {self.status}, "
                          f"{len(self.elements)} elements: {shown}; {self.text()[:600]!r})")

    def text(self) -> str:
        """The run's exception messages and markdown, for an error report."""
        out = [f"{e.proto.type}: {e.proto.message} {list(e.proto.stack_trace)[-3:]}"
               for e in self.elements if e.kind == "exception"]
        out += [getattr(e.proto, "body", "") for e in self.elements if e.kind in ("markdown", "alert")]
        return " | ".join(out)

    def image_captions(self) -> list[str]:
        return [c for e in self.elements for c in e.captions()]


class Session:
    """One websocket session on ``url`` (http://host:port)."""

    def __init__(self, url: str, *, fetch_media: bool = True):
        self.url, self.fetch_media = url, fetch_media
        self.ws_url = url.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = None
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, object]] = {}  # id -> (value field, value)

    async def __aenter__(self) -> "Session":
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=60)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def open(self, page: str, timeout: float = 120) -> Run:
        """Open a page (its url path) as a new tab does; rerun requests on the first run
        (the app switches Streamlit's pages mode once) are followed, and so is a page's
        first-screen component (genlab_ui.components.below_the_fold): a tab tells it the first
        screen is painted, and the next run draws the rest. The Run is that whole page."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = page
        run = await self._send(msg, timeout)
        fold = next((e for e in run.elements if e.kind == "bidi_component" and "-fold." in e.id), None)
        if fold is None:
            return run
        rest = await self.set_widget(fold, "json_value", json.dumps({"painted": True}), timeout)
        # a widget's first proto has its initial value; its fragment is the one of the last run
        first = {e.id: e.proto for e in run.elements if e.id}
        rest.elements = [Element(e.kind, e.fragment, first.get(e.id, e.proto)) for e in rest.elements]
        rest.seconds += run.seconds
        rest.bytes += run.bytes
        return rest

    async def set_widget(self, element: Element, value_field: str, value, timeout: float = 60) -> Run:
        """Change one widget as the browser does: a rerun of its fragment (or of the page)
        carrying every widget state this session has sent so far."""
        self.widgets[element.id] = (value_field, value)
        return await self._rerun(element.fragment, {}, timeout)

    async def click(self, element: Element, timeout: float = 60) -> Run:
        """Press a button: a trigger sent once (not kept in the widget states of later reruns)."""
        return await self._rerun(element.fragment, {element.id: ("trigger_value", True)}, timeout)

    async def rerun_fragment(self, fragment: str, timeout: float = 60) -> Run:
        """What a fragment's timer (``run_every``) sends: a rerun of that fragment alone."""
        return await self._rerun(fragment, {}, timeout)

    async def _rerun(self, fragment: str, once: dict, timeout: float) -> Run:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment
        for wid, (name, v) in {**self.widgets, **once}.items():
            state = cs.widget_states.widgets.add()
            state.id = wid
            if isinstance(v, (list, tuple)):
                getattr(state, name).data.extend(v)
            else:
                setattr(state, name, v)
        return await self._send(msg, timeout)

    def _get(self, path: str) -> None:
        with urllib.request.urlopen(path if "://" in path else self.url + path, timeout=60) as r:
            r.read()

    async def _send(self, msg: BackMsg, timeout: float) -> Run:
        run, t0 = Run(), time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            f, raw = ForwardMsg(), await asyncio.wait_for(self.ws.recv(), timeout)
            run.bytes += len(raw)
            f.ParseFromString(raw)
            kind = f.WhichOneof("type")
            if kind == "navigation":
                self.page_hash = f.navigation.page_script_hash
            elif kind == "delta" and f.delta.WhichOneof("type") == "new_element":
                el = f.delta.new_element
                et = el.WhichOneof("type")
                run.elements.append(Element(et, f.delta.fragment_id, getattr(el, et)))
            elif (kind == "delta" and f.delta.WhichOneof("type") == "add_block"
                  and f.delta.add_block.WhichOneof("type") == "expandable" and f.delta.add_block.expandable.id):
                # an expander that reruns the page when opened is a widget too (bool_value)
                run.elements.append(Element("expandable", f.delta.fragment_id, f.delta.add_block.expandable))
            elif kind == "script_finished":
                if f.script_finished in FINISHED:
                    if self.fetch_media:  # the images, as a browser loads them
                        await asyncio.gather(*[asyncio.to_thread(self._get, i.url) for e in run.elements
                                               if e.kind == "imgs" for i in e.proto.imgs
                                               if not i.url.startswith("data:")])  # inline: no request
                    run.status, run.seconds = f.script_finished, time.perf_counter() - t0
                    return run
                run.elements.clear()  # finished early for a rerun: the next run follows
