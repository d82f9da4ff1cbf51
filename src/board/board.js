// Board pages: live figures over server-sent events, and a stall table that sorts and filters in
// place. Everything shown is already in the HTML; this script only keeps it fresh and handy.
(function () {
  "use strict";
  var main = document.querySelector("main[data-stream]");
  var table = document.getElementById("stall-table");
  var filter = document.getElementById("stall-filter");
  var sorting = null; // { col, dir }

  function applyFilter() {
    if (!filter || !table) return;
    var want = filter.elements.status.value;
    table.tBodies[0].querySelectorAll("tr").forEach(function (row) {
      var status = row.getAttribute("data-status");
      var show = want === "" || (want === "help" ? status !== "ok" : status === want);
      row.hidden = !show;
    });
  }

  function applySort() {
    if (!table || !sorting) return;
    var body = table.tBodies[0];
    var numeric = table.querySelector('button.sort[data-col="' + sorting.col + '"]').hasAttribute("data-numeric");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[sorting.col].getAttribute("data-sort");
      var y = b.cells[sorting.col].getAttribute("data-sort");
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, "vi", { numeric: true });
      return sorting.dir * order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("button.sort").forEach(function (button) {
      var col = Number(button.getAttribute("data-col"));
      if (col === sorting.col) button.setAttribute("aria-sort", sorting.dir > 0 ? "ascending" : "descending");
      else button.removeAttribute("aria-sort");
    });
  }

  if (filter) {
    var submit = filter.querySelector("button[type=submit]");
    if (submit) submit.hidden = true;
    filter.elements.status.addEventListener("change", applyFilter);
    filter.addEventListener("submit", function (event) { event.preventDefault(); applyFilter(); });
    applyFilter();
  }
  if (table) {
    table.querySelectorAll("button.sort").forEach(function (button) {
      button.addEventListener("click", function () {
        var col = Number(button.getAttribute("data-col"));
        sorting = { col: col, dir: sorting && sorting.col === col ? -sorting.dir : 1 };
        applySort();
      });
    });
  }

  if (!main || !window.EventSource) return;
  var status = document.getElementById("live-status");
  var source = new EventSource(main.getAttribute("data-stream"));
  source.addEventListener("open", function () {
    status.setAttribute("data-state", "on");
    status.textContent = "Đang cập nhật trực tiếp · ";
  });
  source.addEventListener("error", function () {
    status.setAttribute("data-state", "off");
    status.textContent = "Mất kết nối, đang thử lại · ";
  });
  source.addEventListener("figures", function (event) {
    var parts = JSON.parse(event.data);
    Object.keys(parts).forEach(function (id) {
      if (id === "as-of") {
        document.querySelectorAll('[data-figure="as-of"]').forEach(function (el) { el.textContent = parts[id]; });
        return;
      }
      var el = document.getElementById(id);
      if (el) el.innerHTML = parts[id];
    });
    applySort();
    applyFilter();
    document.body.setAttribute("data-updates", String(Number(document.body.getAttribute("data-updates") || 0) + 1));
  });
})();
