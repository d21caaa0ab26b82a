/* Promptster cohort page: sort the table by any column (numbers by value, empty cells last). */
(() => {
  "use strict";
  document.documentElement.classList.add("js");

  function key(row, column, type) {
    const raw = row.cells[column] ? row.cells[column].dataset.sort : "";
    if (raw === undefined || raw === "") return null;
    return type === "num" ? Number(raw) : raw.toLowerCase();
  }

  function sort(table, button) {
    const column = Number(button.dataset.col);
    const type = button.dataset.type;
    const header = button.closest("th");
    const descending = header.getAttribute("aria-sort") === "ascending";
    for (const th of table.querySelectorAll("th")) th.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = key(a, column, type), y = key(b, column, type);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      const order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    body.replaceChildren(...rows);
  }

  for (const table of document.querySelectorAll("table.sortable")) {
    for (const button of table.querySelectorAll("th button")) {
      button.addEventListener("click", () => sort(table, button));
    }
  }
  document.documentElement.dataset.ready = String(Math.round(performance.now()));
})();
