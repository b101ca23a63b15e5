// genlab "Copy link": a button that copies the page's address as the browser shows it now,
// with every setting the page keeps in the URL. The clipboard API needs a secure context
// (https or localhost); elsewhere the address is selected in a text field to copy by hand.
export default function (component) {
  const { parentElement } = component;
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
