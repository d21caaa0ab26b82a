/* Promptster report: the timeline. Filters, search and a window of rendered rows that grows as
 * the reader scrolls (progressive rendering), so 100,000 events stay responsive. */
PS.timeline = (() => {
  "use strict";
  const { $, $$, el, append, offset, duration, number, token } = PS;
  const CHUNK = 150;
  const T = {
    data: null, rows: [], filtered: [], start: 0, end: 0, bySeq: new Map(),
    hide: { kind: new Set(), actor: new Set(), source: new Set() },
    query: "", evidence: null, expand: false, split: false, hay: [],
  };
  let list, status, observer;

  const name = (table, row, column) => T.data[table][row[column]];

  function haystack(i) {
    let text = T.hay[i];
    if (text === undefined) {
      const row = T.rows[i];
      const parts = [name("kinds", row, 2), name("actors", row, 3), name("sources", row, 4), "#" + row[0]];
      const walk = (v) => {
        if (typeof v === "string") parts.push(v);
        else if (typeof v === "number") parts.push(String(v));
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
      };
      walk(row[6]);
      text = T.hay[i] = parts.join(" ").toLowerCase();
    }
    return text;
  }

  function filter() {
    const terms = T.query.toLowerCase().split(/\s+/).filter(Boolean);
    const out = [];
    for (let i = 0; i < T.rows.length; i++) {
      const row = T.rows[i];
      if (T.evidence && !T.evidence.seqs.has(row[0])) continue;
      if (T.hide.kind.has(name("kinds", row, 2)) || T.hide.actor.has(name("actors", row, 3)) || T.hide.source.has(name("sources", row, 4))) continue;
      if (terms.length) {
        const hay = haystack(i);
        if (!terms.every((t) => hay.includes(t))) continue;
      }
      out.push(i);
    }
    T.filtered = out;
  }

  function row(i) {
    const r = T.rows[i];
    const kind = name("kinds", r, 2), actor = name("actors", r, 3), source = name("sources", r, 4), attr = name("attrs", r, 5);
    const b = r[6] || {};
    const article = el("article", `ev k-${token(kind)} a-${token(actor)}`);
    if (kind === "warning" && b.code) article.classList.add(`w-${token(b.code)}`);
    article.id = `ev-${r[0]}`;
    article.tabIndex = -1;
    article.dataset.i = String(i);
    const when = el("div", "when");
    const link = el("a", null, offset(r[1]));
    link.href = `#ev-${r[0]}`;
    append(when, link, el("div", null, `#${r[0]}`));
    const head = el("div", "head");
    const actorBadge = el("span", `actor a-${token(actor)}`, actor === "human" ? "candidate" : actor === "ai" ? "AI" : actor);
    append(head, el("span", "kind", kind), actorBadge, el("span", "src", source));
    const v = PS.events.view(kind, b, { expand: T.expand, attr });
    const summary = append(el("span", "summary"), ...v.summary.flatMap((n) => [n, " "]));
    head.appendChild(summary);
    const body = el("div", "body");
    append(body, ...v.body);
    append(article, when, append(el("div"), head, body));
    return article;
  }

  function idle(gap) {
    return el("div", "idle", `⋯ ${duration(gap)} without events ⋯`);
  }

  function rowsFor(from, to) {
    const frag = document.createDocumentFragment();
    for (let p = from; p < to; p++) {
      const i = T.filtered[p];
      if (p > 0) {
        const gap = T.rows[i][1] - T.rows[T.filtered[p - 1]][1];
        if (gap >= T.data.idleMs) frag.appendChild(idle(gap));
      }
      frag.appendChild(row(i));
    }
    return frag;
  }

  function moreButton(which, count) {
    const button = el("button", `more more-${which}`, which === "before" ? `Show ${number(Math.min(count, CHUNK))} earlier events (${number(count)} before)` : `Show ${number(Math.min(count, CHUNK))} more events (${number(count)} left)`);
    button.type = "button";
    button.addEventListener("click", () => (which === "before" ? prepend() : appendChunk()));
    return button;
  }

  function refreshButtons() {
    $$(".more", list).forEach((b) => b.remove());
    if (T.start > 0) list.insertBefore(moreButton("before", T.start), list.firstChild);
    if (T.end < T.filtered.length) {
      const button = moreButton("after", T.filtered.length - T.end);
      list.appendChild(button);
      observer.observe(button);
    }
    const shown = T.filtered.length ? `${number(T.start + 1)}–${number(T.end)} of ` : "";
    status.textContent = `${shown}${number(T.filtered.length)} matching events (${number(T.rows.length)} in all)`;
  }

  function appendChunk() {
    const to = Math.min(T.end + CHUNK, T.filtered.length);
    const after = $(".more-after", list);
    list.insertBefore(rowsFor(T.end, to), after || null);
    T.end = to;
    refreshButtons();
  }

  function prepend() {
    const from = Math.max(0, T.start - CHUNK);
    const anchor = list.querySelector(".ev");
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    const idleFirst = anchor && anchor.previousElementSibling && anchor.previousElementSibling.classList.contains("idle") ? anchor.previousElementSibling : null;
    if (idleFirst) idleFirst.remove();
    const frag = rowsFor(from, T.start);
    if (T.start < T.filtered.length && T.start > 0) {
      const gap = T.rows[T.filtered[T.start]][1] - T.rows[T.filtered[T.start - 1]][1];
      if (gap >= T.data.idleMs) frag.appendChild(idle(gap));
    }
    list.insertBefore(frag, anchor);
    T.start = from;
    refreshButtons();
    if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - before);
  }

  function show(from) {
    T.start = T.end = Math.max(0, Math.min(from, T.filtered.length));
    list.replaceChildren();
    appendChunk();
  }

  function update() {
    filter();
    show(0);
  }

  function setEvidence(label, seqs) {
    const pill = $("#tl-evidence");
    if (seqs === null) {
      T.evidence = null;
      pill.hidden = true;
    } else {
      T.evidence = { label, seqs: new Set(seqs) };
      pill.hidden = false;
      pill.firstElementChild.textContent = `Showing the ${number(seqs.length)} events behind “${label}”`;
    }
  }

  function resetFilters() {
    for (const group of Object.keys(T.hide)) T.hide[group].clear();
    $$(".chip").forEach((c) => c.setAttribute("aria-pressed", "true"));
    T.query = "";
    $("#tl-search").value = "";
    setEvidence(null, null);
  }

  /** Show only these kinds (used by the summary's answer links). */
  function onlyKinds(kinds) {
    resetFilters();
    const wanted = new Set(kinds);
    for (const chip of $$('.chip[data-group="kind"]')) {
      const on = wanted.has(chip.dataset.value);
      chip.setAttribute("aria-pressed", String(on));
      if (!on) T.hide.kind.add(chip.dataset.value);
    }
    update();
  }

  function evidenceOf(signal, label) {
    resetFilters();
    setEvidence(label, (T.data.evidence && T.data.evidence[signal]) || []);
    update();
  }

  /** Scroll to event `seq`, clearing filters that hide it. */
  function reveal(seq, focus = true) {
    const i = T.bySeq.get(seq);
    if (i === undefined) return false;
    let p = T.filtered.indexOf(i);
    if (p < 0) { resetFilters(); filter(); p = T.filtered.indexOf(i); }
    if (p < T.start || p >= T.end) show(Math.max(0, p - 10));
    while (p >= T.end) appendChunk();
    const node = document.getElementById(`ev-${seq}`);
    if (node) {
      node.scrollIntoView({ block: "start" });
      node.classList.remove("flash");
      void node.offsetWidth;
      node.classList.add("flash");
      if (focus) node.focus({ preventScroll: true });
    }
    return true;
  }

  function rerender() {
    const keep = T.start;
    show(keep);
  }

  function wire() {
    let timer = 0;
    $("#tl-search").addEventListener("input", (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => { T.query = e.target.value; update(); }, 150);
    });
    for (const chip of $$(".chip")) {
      chip.addEventListener("click", () => {
        const hidden = T.hide[chip.dataset.group];
        const on = chip.getAttribute("aria-pressed") !== "true";
        chip.setAttribute("aria-pressed", String(on));
        if (on) hidden.delete(chip.dataset.value); else hidden.add(chip.dataset.value);
        update();
      });
    }
    for (const all of $$(".chip-all")) {
      all.addEventListener("click", () => {
        const chips = $$(`.chip[data-group="${all.dataset.group}"]`);
        const anyOn = chips.some((c) => c.getAttribute("aria-pressed") === "true");
        for (const c of chips) {
          c.setAttribute("aria-pressed", String(!anyOn));
          if (anyOn) T.hide[all.dataset.group].add(c.dataset.value); else T.hide[all.dataset.group].delete(c.dataset.value);
        }
        update();
      });
    }
    $("#tl-reset").addEventListener("click", () => { resetFilters(); update(); });
    $("#tl-evidence-clear").addEventListener("click", () => { setEvidence(null, null); update(); });
    $("#tl-expand").addEventListener("click", (e) => {
      T.expand = !T.expand;
      e.target.setAttribute("aria-pressed", String(T.expand));
      e.target.textContent = T.expand ? "collapse all" : "expand all";
      rerender();
    });
    $("#diff-mode").addEventListener("click", (e) => {
      T.split = !T.split;
      e.target.setAttribute("aria-pressed", String(T.split));
      for (const box of $$(".diff[data-seq]")) PS.diff.render(box, Number(box.dataset.seq), box.dataset.attr, T.split);
    });
    list.addEventListener("click", (e) => {
      const toggle = e.target.closest(".diff-toggle");
      if (!toggle) return;
      const article = toggle.closest(".ev");
      const open = toggle.getAttribute("aria-expanded") === "true";
      const existing = article.querySelector(".diff");
      if (open) {
        if (existing) existing.remove();
        toggle.setAttribute("aria-expanded", "false");
        toggle.textContent = "show diff";
        return;
      }
      const r = T.rows[Number(article.dataset.i)];
      const box = el("div");
      toggle.after(box);
      toggle.setAttribute("aria-expanded", "true");
      toggle.textContent = "hide diff";
      PS.diff.render(box, r[0], name("attrs", r, 5), T.split);
    });
    observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting && entry.target.classList.contains("more-after")) {
          observer.unobserve(entry.target);
          appendChunk();
        }
      }
    }, { rootMargin: "600px" });
  }

  async function init() {
    list = $("#tl-list");
    status = $("#tl-status");
    T.data = await PS.block("ps-events");
    T.rows = T.data.rows;
    T.rows.forEach((r, i) => T.bySeq.set(r[0], i));
    wire();
    update();
    list.setAttribute("aria-busy", "false");
  }

  const attributeOf = (seq) => {
    const i = T.bySeq.get(seq);
    return i === undefined ? "unknown" : name("attrs", T.rows[i], 5);
  };
  const rowOf = (seq) => { const i = T.bySeq.get(seq); return i === undefined ? null : T.rows[i]; };

  return { init, reveal, onlyKinds, evidenceOf, appendChunk, attributeOf, rowOf, state: T };
})();
