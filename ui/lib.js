// What every page shares: the API client (the key held in sessionStorage only, sent as a
// header, never in a URL), exact formatting of decimal strings, tables built from text
// nodes (no HTML from data), exports through POST /v1/exports, and charts.

const KEY = "tariffd.key";

export class Problem extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function key() { return sessionStorage.getItem(KEY); }
export function setKey(value) { value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY); }

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const k = key();
  if (k) h["Authorization"] = "Bearer " + k;
  return h;
}

// One call to the public API; a problem+json answer becomes a thrown Problem.
export async function api(method, path, { json, body, contentType, raw } = {}) {
  const init = { method, headers: headers(contentType ? { "Content-Type": contentType } : {}) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch (_) { /* not JSON */ }
    throw new Problem(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export { headers as authHeaders };

// ---- numbers: decimal strings stay strings; only grouping is added ----

export function group(decimal) {
  if (decimal === null || decimal === undefined || decimal === "") return "—";
  const text = String(decimal);
  const negative = text.startsWith("-");
  const [whole, fraction] = (negative ? text.slice(1) : text).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (negative ? "−" : "") + grouped + (fraction !== undefined ? "." + fraction : "");
}

// Yuan as a meeting reads it: "¥1,234.50", "−¥0.01".
export function yuan(decimal) {
  if (decimal === null || decimal === undefined) return "—";
  const text = String(decimal);
  return text.startsWith("-") ? "−¥" + group(text.slice(1)) : "¥" + group(text);
}

export function signedYuan(decimal) {
  return (tone(decimal) === "up" ? "+" : "") + yuan(decimal);
}

// The industries the API names (its `Industry` schema).
export const INDUSTRIES = ["steel", "cement", "electrolytic_aluminum", "ferroalloy", "calcium_carbide", "caustic_soda", "yellow_phosphorus", "zinc_smelting", "other"];

// The Chinese beside the API's names for industries, classes and measures.
const ZH = {
  steel: "钢铁", cement: "水泥", electrolytic_aluminum: "电解铝", ferroalloy: "铁合金", calcium_carbide: "电石",
  caustic_soda: "烧碱", yellow_phosphorus: "黄磷", zinc_smelting: "锌冶炼", other: "其他",
  encouraged: "鼓励类", permitted: "允许类", restricted: "限制类", eliminated: "淘汰类",
  differential: "差别电价", tiered: "阶梯电价", punitive: "惩罚性电价", water_progressive: "超定额累进加价",
  base_electricity: "基础电费", base_water: "基础水费",
};
export function named(name) { return ZH[name] ? `${ZH[name]} ${name}` : name; }

// ---- DOM ----

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Headline figures, each [label, text shown, id?, tone?]: the id (`data-figure`) defaults to
// the label's last English word; the tone is "up" or "down" for a change.
export function figures(items) {
  return el("div", { class: "figures" }, items.map(([label, shown, id, tone]) =>
    el("div", { class: "figure" }, el("div", { class: "label" }, label),
      el("div", { class: ["value", tone].filter(Boolean).join(" "), "data-figure": id || label.split(" ").pop().toLowerCase() }, shown))));
}

// "up" for a rise, "down" for a fall, nothing for none.
export function tone(decimal) {
  const text = String(decimal);
  return text.startsWith("-") ? "down" : /^0(\.0+)?$/.test(text) ? "" : "up";
}

export function field(labelText, input) { return el("label", {}, labelText, input); }

export function showProblem(where, error) {
  const body = error instanceof Problem ? error.body : {};
  const box = el("div", { class: "problem", role: "alert" },
    el("strong", {}, body.title || "出错 Error"), " ", error.message);
  if (Array.isArray(body.errors) && body.errors.length) {
    box.append(el("ul", {}, body.errors.map(e =>
      el("li", {}, el("code", {}, e.pointer || e.parameter || e.column || ""), " ", e.message))));
  }
  where.replaceChildren(box);
}

// ---- tables, and their exports ----

// columns: [{title, kind: "text"|"number"|"money", value: row => cell}]; money shows as yuan,
// numbers grouped, text as it is.
export function dataTable(name, columns, rows, { rowClass, onRow } = {}) {
  const head = el("tr", {}, columns.map(c => el("th", {}, c.title)));
  const body = rows.map(row => {
    const tr = el("tr", { class: [rowClass ? rowClass(row) : "", onRow ? "clickable" : ""].join(" ").trim() || null },
      columns.map(c => {
        const cell = c.value(row);
        const shown = c.kind === "money" ? yuan(cell) : c.kind === "number" ? group(cell) : cell;
        return el("td", { class: c.kind && c.kind !== "text" ? "num" : null }, shown ?? "");
      }));
    if (onRow) tr.addEventListener("click", () => onRow(row));
    return tr;
  });
  const sheet = { name, columns, rows };
  return el("div", { class: "table" },
    exportButtons(name, [sheet]),
    el("table", { "data-table": name }, el("thead", {}, head), el("tbody", {}, body)));
}

// Excel's rules for a sheet name: at most 31 characters, none of [ ] : * ? / \.
function sheetName(name) { return Array.from(name.replace(/[\[\]:*?\/\\]/g, "_")).slice(0, 31).join(""); }

export function sheetOf({ name, columns, rows }) {
  return {
    name: sheetName(name),
    columns: columns.map(c => ({ title: c.title, kind: c.kind || "text" })),
    rows: rows.map(row => columns.map(c => {
      const v = c.value(row);
      return v === undefined ? null : (typeof v === "boolean" ? String(v) : v);
    })),
  };
}

export function exportButtons(fileName, sheets) {
  const safe = fileName.replace(/["\/\\\x00-\x1f]+/g, "_") || "tariffd";
  const status = el("span", { class: "export-status" });
  const button = format => el("button", { class: "secondary", "data-export": format, onclick: async () => {
    status.replaceChildren();
    try { await download(format, safe, sheets); } catch (error) { showProblem(status, error); }
  } }, "导出 " + format.toUpperCase());
  return el("div", { class: "exports" }, button("xlsx"), sheets.length === 1 ? button("csv") : null, status);
}

export async function download(format, fileName, sheets) {
  const response = await api("POST", "/v1/exports", {
    json: { format, file_name: fileName, sheets: sheets.map(sheetOf) }, raw: true,
  });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: `${fileName}.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A tariff chooser: the loaded tariffs where the key may list them (role reader), else a
// text field (a biller or analyst key may price on a tariff without listing them).
export async function tariffChoice(id, selected, may) {
  if (!may("reader")) return el("input", { id, value: selected || "", placeholder: "cn-sx-xinzhou" });
  const list = await api("GET", "/v1/tariffs");
  const chosen = selected || list.default;
  return el("select", { id }, list.tariffs.map(t => el("option", { value: t.id, selected: t.id === chosen }, t.id)));
}

// ---- charts ----

export function chart(container, option) {
  const node = el("div", { class: "chart" });
  container.append(node);
  const instance = echarts.init(node, null, { renderer: "svg" });
  instance.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" }, grid: { left: 90, right: 20, top: 40, bottom: 40 } }, option));
  // Follows its box: a grid cell narrows as more charts join the grid.
  new ResizeObserver(() => instance.resize()).observe(node);
  return instance;
}

// ECharts plots numbers: a display value (not a figure of record) from a decimal string.
export function plot(decimal) { return decimal === null || decimal === undefined ? null : Number(decimal); }
