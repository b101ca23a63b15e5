// genlab "Copy link": a button that copies the page's address as the browser shows it now,
// with every setting the page keeps in the URL. The clipboard API needs a secure context
// (https or localhost); elsewhere the address is selected in a text field to copy by hand.
export default function (component) {
  const { parentElement } = component;
  pagesInHistory();
  if (parentElement.__genlabCopyLink) return;
  const box = document.createElement("div");
  box.className = "gl-copy";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Copy link to this view";
  button.title = "The address of this page with its current settings: opened elsewhere, it shows the same view";
  const field = document.createElement("input");
  field.readOnly = true;
  field.className = "gl-copy-field";
  field.style.display = "none";
  const note = document.createElement("span");
  note.className = "gl-copy-note";
  note.setAttribute("role", "status");
  button.addEventListener("click", async () => {
    const href = window.location.href;
    try {
      await navigator.clipboard.writeText(href);
      note.textContent = "Copied";
      field.style.display = "none";
    } catch (e) {
      field.value = href;
      field.style.display = "";
      field.select();
      note.textContent = "Copy the address above (Ctrl+C)";
    }
    box.dataset.copied = href;  // what was copied (the tests read it)
    setTimeout(() => { note.textContent = ""; }, 2500);
  });
  box.append(button, note, field);
  parentElement.append(box);
  parentElement.__genlabCopyLink = true;
}

// Back and Forward move between pages. Streamlit pushes a history entry for every change of a
// widget kept in the URL, and for the settings a page's later runs write (its part below the
// fold arrives in a second run): Back then walked through settings, or needed several presses
// to leave a page. Here a push that only changes the query replaces the entry instead, and a
// page pushed again within 5 s of being pushed (a run of the old page still in flight when a
// link was followed puts its URL back first) is one entry. Installed once per tab.
function pagesInHistory() {
  if (history.__genlabPush) return;
  const push = history.pushState;
  history.__genlabPush = push;
  let last = null;  // the last page switch: {path, t}
  history.pushState = function (state, title, url) {
    const target = url === undefined || url === null ? location.href : new URL(url, location.href).href;
    const path = new URL(target).pathname;
    const again = last && last.path === path && Date.now() - last.t < 5000;
    if (path === location.pathname || again) return history.replaceState(state, title, url);
    last = { path, t: Date.now() };
    return push.call(history, state, title, url);
  };
}
