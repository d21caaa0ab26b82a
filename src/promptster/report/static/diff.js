/* Promptster report: unified and side-by-side diffs of one file change. */
PS.diff = (() => {
  "use strict";
  const { el, append } = PS;
  const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

  /** Parse hunk text into rows: {type: hunk|ctx|add|del|note, old, new, text}. */
  function parse(text) {
    const rows = [];
    let oldNo = 0, newNo = 0;
    for (const line of text.split("\n")) {
      const hunk = HUNK.exec(line);
      if (hunk) {
        oldNo = Number(hunk[1]); newNo = Number(hunk[2]);
        rows.push({ type: "hunk", text: line });
      } else if (line.startsWith("+")) rows.push({ type: "add", new: newNo++, text: line.slice(1) });
      else if (line.startsWith("-")) rows.push({ type: "del", old: oldNo++, text: line.slice(1) });
      else if (line.startsWith(" ")) rows.push({ type: "ctx", old: oldNo++, new: newNo++, text: line.slice(1) });
      else if (line.length) rows.push({ type: "note", text: line.replace(/^\\ /, "") });
    }
    return rows;
  }

  function columns(table, kinds) {
    const group = el("colgroup");
    for (const kind of kinds) group.appendChild(el("col", kind === "ln" ? "col-ln" : "col-code"));
    table.appendChild(group);
  }

  function cell(className, text) {
    return el("td", className, text === undefined ? "" : text);
  }

  function unified(rows) {
    const table = el("table");
    columns(table, ["ln", "ln", "code"]);
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr", row.type);
      if (row.type === "hunk" || row.type === "note") {
        const td = cell("code", row.text);
        td.colSpan = 3;
        append(tr, td);
      } else {
        append(tr, cell("ln", row.old), cell("ln", row.new), cell("code", (row.type === "add" ? "+" : row.type === "del" ? "-" : " ") + row.text));
      }
      body.appendChild(tr);
    }
    table.appendChild(body);
    return table;
  }

  function split(rows) {
    const table = el("table");
    columns(table, ["ln", "code", "ln", "code"]);
    const body = el("tbody");
    const emit = (left, right) => {
      const tr = el("tr");
      append(
        tr,
        cell("ln", left ? left.old : ""), cell(left ? (left.type === "del" ? "del" : "ctx") : "empty", left ? left.text : ""),
        cell("ln", right ? right.new : ""), cell(right ? (right.type === "add" ? "add" : "ctx") : "empty", right ? right.text : ""),
      );
      body.appendChild(tr);
    };
    let dels = [], adds = [];
    const flush = () => {
      for (let i = 0; i < Math.max(dels.length, adds.length); i++) emit(dels[i], adds[i]);
      dels = []; adds = [];
    };
    for (const row of rows) {
      if (row.type === "del") { if (adds.length) flush(); dels.push(row); }
      else if (row.type === "add") adds.push(row);
      else {
        flush();
        if (row.type === "ctx") emit(row, row);
        else {
          const tr = el("tr", row.type);
          const td = cell("code", row.text);
          td.colSpan = 4;
          tr.appendChild(td);
          body.appendChild(tr);
        }
      }
    }
    flush();
    table.appendChild(body);
    return table;
  }

  /** Fill `box` with the diff of event `seq`, coloured by its attribution. */
  async function render(box, seq, attribution, sideBySide) {
    box.className = `diff by-${PS.token(attribution)}`;
    box.dataset.seq = String(seq);
    box.dataset.attr = attribution;
    box.replaceChildren(el("div", "note", "loading…"));
    const diffs = await PS.block("ps-diffs");
    const entry = diffs[String(seq)];
    if (!entry) {
      box.replaceChildren(el("div", "note", "No diff for this change (binary, empty, or beyond the report's size budget)."));
      return;
    }
    const [text, more] = entry;
    const rows = parse(text);
    box.replaceChildren(sideBySide ? split(rows) : unified(rows));
    if (more > 0) box.appendChild(el("div", "note", `${PS.number(more)} more lines not shown`));
  }

  return { parse, render };
})();
