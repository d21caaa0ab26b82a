/* Promptster report: the rating form. It never submits (the page allows no form action and
   makes no request): it writes the `promptster rate` command and a small rating file to
   download, which `promptster rate --from FILE` imports into the reviewer workspace. */
(() => {
  "use strict";
  const form = document.getElementById("rate-form");
  if (!form) return;
  const command = document.getElementById("rate-command");
  const download = document.getElementById("rate-download");
  const status = document.getElementById("rate-status");
  const session = form.dataset.session || "";
  let url = null;

  // POSIX shell quoting: plain words as they are, anything else in single quotes.
  function quote(text) {
    return /^[A-Za-z0-9_.,:@%+=\/-]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\\''") + "'";
  }

  function rating() {
    const scores = {};
    for (const select of form.querySelectorAll("select[data-dimension]")) {
      if (select.value) scores[select.dataset.dimension] = Number(select.value);
    }
    const text = (name) => (form.elements[name].value || "").trim() || null;
    return {
      format: "promptster.rating",
      version: 1,
      sessionId: session,
      reviewer: text("reviewer"),
      scores: scores,
      decision: text("decision"),
      note: text("note"),
    };
  }

  function update() {
    const r = rating();
    const parts = ["promptster", "rate", quote(session)];
    for (const [name, score] of Object.entries(r.scores)) parts.push("--dimension", `${name}=${score}`);
    if (r.decision) parts.push("--decision", r.decision);
    if (r.note) parts.push("--note", quote(r.note));
    if (r.reviewer) parts.push("--reviewer", quote(r.reviewer));
    command.textContent = parts.join(" ");
    if (url) URL.revokeObjectURL(url);
    const blob = new Blob([JSON.stringify(r, null, 2) + "\n"], { type: "application/json" });
    url = URL.createObjectURL(blob);
    download.href = url;
    status.textContent = "";
  }

  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  document.getElementById("rate-copy").addEventListener("click", () => {
    const done = () => { status.textContent = "copied"; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(command.textContent).then(done, () => {
        status.textContent = "select the command and copy it";
      });
    } else {
      status.textContent = "select the command and copy it";
    }
  });
  update();
})();
