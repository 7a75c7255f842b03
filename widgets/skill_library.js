// SkillLibraryView front end (anywidget ESM): a table of the skill library, sortable by any
// column, with a success-history sparkline per skill and a button that asks the kernel to read
// library.json again.

const SVG_NS = "http://www.w3.org/2000/svg";
const COLUMNS = [
  { key: "skill", label: "skill" },
  { key: "status", label: "status" },
  { key: "success", label: "success" },
  { key: "history", label: "history" },
  { key: "reward_steps", label: "data (steps)" },
  { key: "round_added", label: "round added" },
];

function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function sparkline(values, width = 80, height = 20) {
  const plot = document.createElementNS(SVG_NS, "svg");
  plot.setAttribute("class", "gameon-sparkline");
  plot.setAttribute("width", width);
  plot.setAttribute("height", height);
  plot.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const xy = values.map((v, i) => [
    2 + (values.length > 1 ? i / (values.length - 1) : 0.5) * (width - 4),
    2 + (1 - Math.min(Math.max(v, 0), 1)) * (height - 4),
  ]);
  const line = document.createElementNS(SVG_NS, "polyline");
  line.setAttribute("points", xy.map(([x, y]) => `${x},${y}`).join(" "));
  const dot = document.createElementNS(SVG_NS, "circle");
  const [lx, ly] = xy[xy.length - 1];
  dot.setAttribute("cx", lx);
  dot.setAttribute("cy", ly);
  dot.setAttribute("r", 2);
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = values.map((v) => `${Math.round(100 * v)}%`).join(", ");
  plot.append(title, line, dot);
  return plot;
}

// Sort key of a cell: numbers ascend with missing values last; history sorts by its last rate.
function sortKey(row, key) {
  const value = key === "history" ? row.history[row.history.length - 1] : row[key];
  return value === null || value === undefined ? null : value;
}

function render({ model, el }) {
  let sortBy = null;
  let descending = false;
  const refresh = h("button", {
    className: "gameon-library-refresh", type: "button", text: "↻ refresh",
  });
  const info = h("span", { className: "gameon-library-info" });
  const error = h("div", { className: "gameon-library-error" });
  const table = h("table", { className: "gameon-library-table" });
  const root = h("div", { className: "gameon-library gameon-live" }, [
    h("div", { className: "gameon-library-head" }, [
      h("b", { text: "Skill library" }), info, refresh,
    ]),
    error,
    table,
  ]);
  el.append(root);

  function cell(row, key) {
    const value = row[key];
    if (key === "status") {
      return h("span", { className: `gameon-status gameon-${value}`, text: value });
    }
    if (key === "success") {
      if (value === null) return "—";
      const bar = h("span", { className: "gameon-rate-bar" });
      bar.style.width = `${Math.round(40 * value)}px`;
      const percent = `${Math.round(100 * value)}%`;
      const of = row.episodes ? ` of ${row.episodes} episodes` : "";
      return h("span", { className: "gameon-success-rate", title: percent + of }, [bar, percent]);
    }
    if (key === "history") return value.length ? sparkline(value) : "";
    if (value === null || value === undefined) return "—";
    return String(value);
  }

  function draw() {
    const rows = [...model.get("skills")];
    if (sortBy !== null) {
      rows.sort((a, b) => {
        const [x, y] = [sortKey(a, sortBy), sortKey(b, sortBy)];
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (descending ? -1 : 1);
      });
    }
    const head = h("tr", {}, COLUMNS.map(({ key, label }) => {
      const arrow = key === sortBy ? (descending ? " ▼" : " ▲") : "";
      const th = h("th", { text: label + arrow, title: "sort" });
      th.addEventListener("click", () => {
        descending = key === sortBy ? !descending : false;
        sortBy = key;
        draw();
      });
      return th;
    }));
    const body = rows.map((row) =>
      h("tr", { className: "gameon-skill-row", "data-status": row.status },
        COLUMNS.map(({ key }) => h("td", {}, [cell(row, key)]))),
    );
    table.replaceChildren(h("thead", {}, [head]), h("tbody", {}, body));
    const counts = {};
    for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
    const summary = Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ");
    const source = model.get("source");
    info.textContent =
      `${rows.length} skills (${summary})` +
      (source ? ` · ${source}` : "") +
      (model.get("refreshed") ? ` · read ${model.get("refreshed")}` : "");
    error.textContent = model.get("error");
    error.hidden = !model.get("error");
    refresh.hidden = !source;
  }

  refresh.addEventListener("click", () => model.send({ type: "refresh" }));
  const events = "change:skills change:source change:refreshed change:error";
  model.on(events, draw);
  draw();
  return () => model.off(events, draw);
}

export default { render };
