/* Vigie: a button that opens this partner's report form in a dialog.
 * Paste: <script src="…/button.js" data-lang="fr" defer></script>
 * Optional: data-link="ID" hides the link with that id (the form without JavaScript) and puts
 * the button in its place. The partner guide, docs/partners.md, explains it. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.HTMLDialogElement) { return; }
  var labels = {{ labels|tojson }};
  var lang = labels[script.getAttribute("data-lang")] ? script.getAttribute("data-lang") : {{ default_lang|tojson }};
  var text = labels[lang];
  var formUrl = new URL({{ form_path|tojson }}, script.src);
  formUrl.searchParams.set("lang", lang);

  var button = document.createElement("button");
  button.type = "button";
  button.className = "vigie-report-button";
  button.textContent = text.button;

  var dialog = document.createElement("dialog");
  dialog.className = "vigie-report-dialog";
  dialog.setAttribute("aria-label", text.dialog_title);
  dialog.lang = lang;
  dialog.style.width = "min(46rem, 96vw)";
  dialog.style.height = "min(56rem, 92vh)";
  dialog.style.padding = "0";
  dialog.style.border = "0";

  var close = document.createElement("button");
  close.type = "button";
  close.className = "vigie-report-close";
  close.textContent = text.close;
  close.style.position = "absolute";
  close.style.top = "0.5rem";
  close.style.right = "1.25rem";
  close.style.font = "inherit";
  close.style.padding = "0.25rem 0.75rem";

  var frame = document.createElement("iframe");
  frame.title = text.dialog_title;
  frame.style.width = "100%";
  frame.style.height = "100%";
  frame.style.border = "0";
  frame.style.display = "block";

  dialog.appendChild(close);  // first: Escape works from here, Tab reaches it from the form
  dialog.appendChild(frame);
  button.addEventListener("click", function () {
    if (!frame.src) { frame.src = formUrl.href; }
    dialog.showModal();
    close.focus();
  });
  close.addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () { button.focus(); });

  var link = script.getAttribute("data-link") && document.getElementById(script.getAttribute("data-link"));
  if (link) {
    link.hidden = true;
    link.insertAdjacentElement("afterend", button);
  } else {
    script.insertAdjacentElement("afterend", button);
  }
  document.body.appendChild(dialog);
})();
