/* Promptster report: file view, terminal player, links, keyboard, and start-up. */
(() => {
  "use strict";
  const { $, $$, el, append, offset, number } = PS;
  const TL = PS.timeline;

  async function openFile(index) {
    const view = $("#file-view");
    const files = await PS.block("ps-files");
    const f = files[index];
    if (!f) return;
    const title = el("h3", null, f.path);
    const meta = el("p", "muted", `${f.status}${f.size !== undefined ? `, ${number(f.size)} bytes` : ""}, ${f.history.length} change${f.history.length === 1 ? "" : "s"}`);
    const history = el("ol", "history");
    for (const seq of f.history) {
      const r = TL.rowOf(seq);
      const item = el("li");
      const link = el("a", null, r ? `${offset(r[1])} · #${seq}` : `#${seq}`);
      link.href = `#ev-${seq}`;
      append(item, link, " ");
      if (r) {
        const b = r[6] || {};
        append(item, el("span", "plus", `+${number(b.add)}`), " ", el("span", "minus", `−${number(b.rem)}`), " ", PS.attributionChip(TL.attributeOf(seq)), " ");
      }
      const toggle = el("button", null, "diff");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.addEventListener("click", () => {
        const box = item.querySelector(".diff");
        if (box) { box.remove(); toggle.setAttribute("aria-expanded", "false"); return; }
        const target = el("div");
        item.appendChild(target);
        toggle.setAttribute("aria-expanded", "true");
        PS.diff.render(target, seq, TL.attributeOf(seq), TL.state.split);
      });
      item.appendChild(toggle);
      history.appendChild(item);
    }
    const parts = [title, meta];
    if (f.history.length) parts.push(el("h4", null, "History"), history);
    if (f.status !== "deleted") {
      parts.push(el("h4", null, "Submitted content"));
      if (f.bin) parts.push(el("p", "muted", "A binary file."));
      else if (typeof f.text === "string") {
        const pre = el("pre", "src-view");
        const lines = f.text.split("\n");
        if (lines.length && lines[lines.length - 1] === "") lines.pop();
        // authorship.json: [first, last, author, seq, tool] ranges, when the bundle has them
        const byLine = [];
        for (const [first, last, author, seq, tool] of f.authors || []) {
          for (let n = first; n <= last; n++) byLine[n] = [author, seq, tool];
        }
        if (f.authors) parts.push(authorLegend());
        lines.forEach((line, i) => {
          const who = byLine[i + 1];
          if (!who) { pre.appendChild(el("span", null, line)); return; }
          const [author, seq, tool] = who;
          const row = el("span", `au au-${author}`);
          const mark = el("a", "au-mark", AUTHOR_MARK[author] || "?");
          if (seq !== null && seq !== undefined) mark.href = `#ev-${seq}`;
          mark.title = `${AUTHOR_LABEL[author] || author}${tool ? ` (${tool})` : ""}${seq !== null && seq !== undefined ? ` · event #${seq}` : ""}`;
          append(row, mark, line);
          pre.appendChild(row);
        });
        parts.push(pre);
      } else parts.push(el("p", "muted", "Too large to include in the report."));
    }
    view.replaceChildren(...parts);
    view.scrollTop = 0;
  }

  const AUTHOR_LABEL = { ai: "AI", human: "candidate", ai_then_human: "AI, then edited by the candidate", starter: "starter code", unknown: "unknown (likely pasted or not recorded)" };
  const AUTHOR_MARK = { ai: "AI", human: "H", ai_then_human: "A+H", starter: "S", unknown: "?" };

  function authorLegend() {
    const legend = el("p", "au-legend muted", "Lines by author: ");
    for (const author of Object.keys(AUTHOR_LABEL)) {
      append(legend, el("span", `au au-${author}`, AUTHOR_LABEL[author]), " ");
    }
    return legend;
  }

  let player = null;

  async function openCast(button) {
    const box = $("#player");
    const cast = await PS.block(button.dataset.block);
    if (player) player.pause();
    box.hidden = false;
    const ui = { screen: $("#pl-screen"), play: $("#pl-play"), seek: $("#pl-seek"), time: $("#pl-time") };
    player = new PromptsterCast.Player(ui, cast);
    player.speed = Number($("#pl-speed").value) || 1;
    player.setIdle($("#pl-idle").checked);
    ui.screen.focus();
  }

  function wirePlayer() {
    if (!$("#player")) return;
    $("#pl-play").addEventListener("click", () => player && player.toggle());
    $("#pl-restart").addEventListener("click", () => player && player.seek(0));
    $("#pl-seek").addEventListener("input", (e) => player && player.seek((Number(e.target.value) / 1000) * player.duration));
    $("#pl-speed").addEventListener("change", (e) => { if (player) player.speed = Number(e.target.value) || 1; });
    $("#pl-idle").addEventListener("change", (e) => player && player.setIdle(e.target.checked));
    $("#pl-screen").addEventListener("keydown", (e) => {
      if (e.key === " " && player) { e.preventDefault(); player.toggle(); }
    });
    for (const button of $$(".cast-open")) button.addEventListener("click", () => openCast(button));
  }

  function onHash() {
    const match = /^#ev-(\d+)$/.exec(location.hash);
    if (match) TL.reveal(Number(match[1]));
  }

  function focusedEvent() {
    const active = document.activeElement;
    return active && active.closest ? active.closest(".ev") : null;
  }

  function step(direction) {
    let current = focusedEvent();
    let next;
    if (!current) {
      next = $$(".ev", $("#tl-list")).find((n) => n.getBoundingClientRect().bottom > 60);
    } else {
      next = direction > 0 ? current.nextElementSibling : current.previousElementSibling;
      while (next && !next.classList.contains("ev")) {
        if (next.classList.contains("more-after")) { TL.appendChunk(); next = current.nextElementSibling; continue; }
        next = direction > 0 ? next.nextElementSibling : next.previousElementSibling;
      }
    }
    if (next) { next.focus({ preventScroll: true }); next.scrollIntoView({ block: "nearest" }); }
  }

  const SECTIONS = { s: "summary", i: "signals", c: "charts", d: "decisions", t: "timeline", f: "files", r: "terminal", v: "checks" };
  let pendingG = false;

  function help(open) {
    const dialog = $("#help");
    dialog.hidden = !open;
    if (open) $("#help-close").focus();
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target.closest && e.target.closest("input, textarea, select");
    if (e.key === "Escape") {
      help(false);
      if (typing) e.target.blur();
      return;
    }
    if (typing) return;
    if (pendingG) {
      pendingG = false;
      const target = SECTIONS[e.key];
      if (target) { e.preventDefault(); document.getElementById(target).scrollIntoView(); }
      return;
    }
    const ev = focusedEvent();
    switch (e.key) {
      case "/": e.preventDefault(); $("#tl-search").focus(); break;
      case "j": e.preventDefault(); step(1); break;
      case "k": e.preventDefault(); step(-1); break;
      case "g": pendingG = true; break;
      case "?": e.preventDefault(); help(true); break;
      case "o": case "Enter":
        if (ev && e.target === ev) {
          e.preventDefault();
          const all = $$("details", ev);
          const open = !all.some((d) => d.open);
          all.forEach((d) => { d.open = open; });
        }
        break;
      case "d":
        if (ev) { const toggle = $(".diff-toggle", ev); if (toggle) { e.preventDefault(); toggle.click(); } }
        break;
      default: break;
    }
  }

  function wireLinks() {
    document.addEventListener("click", (e) => {
      const link = e.target.closest && e.target.closest(".evidence-link");
      if (link) {
        e.preventDefault();
        if (link.dataset.kinds) TL.onlyKinds(link.dataset.kinds.split(","));
        else {
          const row = link.closest("tr, article");
          const label = row ? (row.querySelector(".sig-label, h2") || row).textContent : link.dataset.signal;
          TL.evidenceOf(link.dataset.signal, label.trim());
        }
        $("#timeline").scrollIntoView();
        return;
      }
      const file = e.target.closest && e.target.closest(".file-open");
      if (file) openFile(Number(file.dataset.file));
    });
    $("#help-open").addEventListener("click", () => help(true));
    $("#help-close").addEventListener("click", () => help(false));
    window.addEventListener("hashchange", onHash);
    window.addEventListener("beforeprint", () => $$("details").forEach((d) => { d.open = true; }));
  }

  async function start() {
    wireLinks();
    wirePlayer();
    document.addEventListener("keydown", onKey);
    try {
      await TL.init();
      onHash();
    } catch (error) {
      const list = $("#tl-list");
      list.replaceChildren(el("p", "notice", `The timeline could not be shown in this browser: ${error && error.message ? error.message : error}`));
    }
    document.documentElement.dataset.ready = String(Math.round(performance.now()));
  }

  start();
})();
