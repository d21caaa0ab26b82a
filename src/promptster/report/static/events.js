/* Promptster report: how each kind of event reads in the timeline. */
PS.events = (() => {
  "use strict";
  const { el, append, fold, duration, number, attributionChip } = PS;

  const OUTCOMES = { error: "error", no_tests: "no tests ran", interrupted: "interrupted", unknown: "result unknown" };
  function exit(code) {
    if (code === null || code === undefined) return null;
    return el("span", code === 0 ? "exit-0" : "exit-bad", code === 0 ? "exit 0" : `exit ${code}`);
  }

  function firstLine(text, limit = 140) {
    const line = String(text || "").split("\n", 1)[0];
    return line.length > limit ? line.slice(0, limit) + "…" : line;
  }

  function counts(b) {
    const span = el("span", "counts");
    append(span, el("span", "passed", `✓ ${b.passed} passed`));
    if (b.failed) append(span, " ", el("span", "failed", `✗ ${b.failed} failed`));
    if (b.errors) append(span, " ", el("span", "failed", `${b.errors} errors`));
    if (b.skipped) append(span, " ", el("span", "skipped", `${b.skipped} skipped`));
    return span;
  }

  function output(b, open) {
    if (!b.head && !b.tail) return null;
    const text = b.head && b.tail && b.head !== b.tail ? `${b.head}\n⋯\n${b.tail}` : b.head || b.tail;
    const lines = text.split("\n").length;
    return fold("out", `output (${number(lines)} line${lines === 1 ? "" : "s"}${b.outputTruncated ? ", excerpt" : ""})`, text, open);
  }

  function field(dl, name, value) {
    if (!value) return;
    append(dl, el("dt", null, name), el("dd", null, value));
  }

  /** {summary: [nodes], body: [nodes]} for one event. */
  function view(kind, b, ctx) {
    const s = [], body = [];
    switch (kind) {
      case "prompt":
        s.push(el("span", "muted", `${number(b.text.length)} characters${b.paste ? ", likely pasted" : ""}${b.cut ? ", cut" : ""}`));
        body.push(el("pre", "prompt-text", b.text));
        break;
      case "ai_response":
        s.push(firstLine(b.text));
        if (b.model) s.push(el("span", "src", b.model));
        if (b.text.includes("\n") || b.text.length > 140) body.push(fold("reply", `AI reply (${number(b.text.length)} characters)`, b.text, ctx.expand));
        break;
      case "tool_use":
        s.push(el("strong", null, b.tool), " ", el("span", "kv", b.input));
        break;
      case "tool_result":
        s.push(el("strong", null, b.tool), " ", el("span", b.ok ? "exit-0" : "exit-bad", b.ok ? "ok" : "failed"));
        if (b.out) body.push(fold("out", "tool output", b.out, ctx.expand));
        break;
      case "file_create": case "file_diff": case "file_delete": {
        s.push(el("code", null, b.path), " ", el("span", "plus", `+${number(b.add)}`), " ", el("span", "minus", `−${number(b.rem)}`), " ", attributionChip(ctx.attr));
        if (ctx.attr === "mixed" || ctx.attr === "ai_revised_by_human") s.push(el("span", "muted", ` ${number(b.ai)} AI / ${number(b.hu)} candidate lines`));
        const toggle = el("button", "diff-toggle", "show diff");
        toggle.type = "button";
        toggle.setAttribute("aria-expanded", "false");
        body.push(toggle);
        break;
      }
      case "command":
        s.push(el("span", "cmd", `$ ${b.cmd}`), " ", exit(b.exit));
        if (b.dur !== null && b.dur !== undefined) s.push(el("span", "muted", duration(b.dur)));
        if (b.cwd && b.cwd !== ".") s.push(el("span", "src", `in ${b.cwd}`));
        if (b.interrupted) s.push(el("span", "tag", "interrupted"));
        if (b.outsideWorkspace) s.push(el("span", "tag", "outside the workspace"));
        body.push(output(b, ctx.expand));
        break;
      case "test_run":
        s.push(el("strong", null, b.tool || "tests"), " ", counts(b), " ", exit(b.exit));
        if (b.outcome) s.push(" ", el("span", "exit-bad", OUTCOMES[b.outcome] || b.outcome));
        if (b.dur) s.push(el("span", "muted", duration(b.dur)));
        if (b.cmd) body.push(el("div", "cmd muted", `$ ${b.cmd}`));
        break;
      case "build_run":
        s.push(el("strong", null, `${b.cat || "build"}: ${b.tool}`), " ", exit(b.exit));
        if (b.errs) s.push(el("span", "exit-bad", `${b.errs} errors`));
        if (b.dur) s.push(el("span", "muted", duration(b.dur)));
        if (b.cmd) body.push(el("div", "cmd muted", `$ ${b.cmd}`));
        break;
      case "decision_event": {
        s.push(el("strong", null, b.title || "(untitled decision)"));
        if (b.impact) s.push(el("span", "tag impact", `impact ${b.impact}/5`));
        if (b.missed) s.push(el("span", "tag", "missed (detected, not written down)"));
        const dl = el("dl");
        field(dl, "Chosen", b.chosenOption); field(dl, "Context", b.context);
        field(dl, "Trade-offs", b.tradeoffs); field(dl, "Rationale", b.rationale);
        body.push(dl);
        break;
      }
      case "planning": {
        s.push(el("strong", null, b.tool || "plan"), el("span", "muted", ` ${b.items.length} item${b.items.length === 1 ? "" : "s"}`));
        const list = el("ul", "plan");
        for (const [text, status] of b.items) append(list, append(el("li"), text, status ? el("span", "muted", ` (${status})`) : null));
        if (b.items.length) body.push(list);
        break;
      }
      case "mcp_call":
        s.push(el("strong", null, `${b.server} · ${b.tool}`), " ", el("span", b.ok ? "exit-0" : "exit-bad", b.ok ? "ok" : "failed"));
        body.push(el("div", "kv", b.args));
        break;
      case "git_action":
        s.push(el("strong", null, `git ${b.action}`), " ", el("code", null, b.ref), " ", firstLine(b.msg));
        break;
      case "checkpoint":
        s.push(el("strong", null, b.label), el("span", "muted", ` (${b.trigger})`));
        break;
      case "note":
        s.push(firstLine(b.text));
        if (b.text.includes("\n")) body.push(el("pre", null, b.text));
        break;
      case "warning":
        s.push(el("strong", null, b.msg || b.code));
        if (b.gapMs) s.push(el("span", "muted", `gap of ${duration(b.gapMs)}`));
        if (b.minutesLeft !== undefined) s.push(el("span", "muted", `${b.minutesLeft} min left`));
        s.push(el("span", "src", b.code));
        break;
      case "session_start":
        s.push(el("strong", null, "Session started"), b.workspace ? el("span", "muted", ` in ${b.workspace}`) : null);
        if (b.limit) s.push(el("span", "tag", `limit ${b.limit} min`));
        for (const tool of b.tools || []) s.push(el("span", "tag", tool));
        break;
      case "session_end":
        s.push(el("strong", null, "Session ended"), el("span", "muted", ` (${b.reason})`));
        break;
      default:
        s.push(el("span", "muted", kind === "unreadable" ? "this line could not be read" : "a kind this version does not know; its data:"));
        if (b.json) body.push(el("div", "kv", b.json));
    }
    return { summary: s, body: body.filter(Boolean) };
  }

  return { view };
})();
