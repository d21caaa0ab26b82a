/* Promptster report: the rating form. It is no <form> and submits nothing (the page allows no
   form and makes no request): it writes the `promptster rate` command and, when asked, a small
   rating file to save, which `promptster rate --from FILE` imports into the reviewer workspace. */
(() => {
  "use strict";
  const form = document.getElementById("rate-form");
  if (!form) return;
  const command = document.getElementById("rate-command");
  const download = document.getElementById("rate-download");
  const status = document.getElementById("rate-status");
  const session = form.dataset.session || "";

  // POSIX shell quoting: plain words as they are, anything else in single quotes.
  function quote(text) {
    return /^[A-Za-z0-9_.,:@%+=\/-]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\\''") + "'";
  }

  function rating() {
    const scores = {};
    for (const select of form.querySelectorAll("select[data-dimension]")) {
      if (select.value) scores[select.dataset.dimension] = Number(select.value);
    }
    const text = (name) => (form.querySelector(`[name="${name}"]`).value || "").trim() || null;
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
    status.textContent = "";
  }

  // The file is made only when asked for: a local blob, saved by a link that lives for one click.
  function save() {
    const blob = new Blob([JSON.stringify(rating(), null, 2) + "\n"], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = download.dataset.file || "rating.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    status.textContent = "saved: import it with promptster rate --from FILE";
  }

  download.addEventListener("click", save);
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
