/* Promptster report: shared helpers. The page's scripts are plain files concatenated into one
 * inline <script> that the Content-Security-Policy allows by its hash.
 *
 * Rule for every script here: text from the bundle only ever reaches the page through
 * textContent or attribute values set with setAttribute/dataset, never through innerHTML.
 */
const PS = (() => {
  "use strict";
  document.documentElement.classList.add("js");

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function append(parent, ...children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  const cache = new Map();

  async function decode(id) {
    const node = document.getElementById(id);
    if (!node) throw new Error(`data block ${id} is missing`);
    const text = JSON.parse(node.textContent);
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    // A Blob stream, not fetch(): the page allows no connection at all (connect-src 'none').
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  /** The decoded JSON of a data block, decoded once, on first use. */
  function block(id) {
    if (!cache.has(id)) cache.set(id, decode(id));
    return cache.get(id);
  }

  const pad = (n) => String(n).padStart(2, "0");

  /** Offset from the session start: +1:02:03, or +2d 03:04:05. */
  function offset(ms) {
    const sign = ms < 0 ? "−" : "+";
    let s = Math.floor(Math.abs(ms) / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return d ? `${sign}${d}d ${pad(h)}:${pad(m)}:${pad(s)}` : `${sign}${h}:${pad(m)}:${pad(s)}`;
  }

  function duration(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${pad(Math.floor(s % 60))} s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ${pad(m % 60)} min`;
    return `${Math.floor(h / 24)} d ${h % 24} h`;
  }

  const number = (n) => (Number.isFinite(n) ? n.toLocaleString("en-US") : "");
  const token = (name) => String(name).replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40) || "_";

  const ATTRIBUTION = {
    likely_ai: "AI",
    likely_human: "candidate",
    ai_revised_by_human: "AI, revised",
    mixed: "mixed",
    system_generated: "system",
    unknown: "unknown",
    likely_paste: "likely paste",
  };

  function attributionChip(name) {
    const chip = el("span", `attr attr-${token(name)}`, ATTRIBUTION[name] || name);
    chip.title = `attribution: ${name}`;
    return chip;
  }

  /** A <details> holding preformatted text; open when `open`. */
  function fold(className, label, text, open) {
    const details = el("details", className);
    details.open = Boolean(open);
    append(details, el("summary", null, label), el("pre", null, text));
    return details;
  }

  return { $, $$, el, append, block, offset, duration, number, token, attributionChip, fold, ATTRIBUTION };
})();
