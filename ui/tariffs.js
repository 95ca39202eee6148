// Tariffs: every jurisdiction's parameters as in force on a day, searchable by path,
// description or document (Chinese titles included); a parameter's whole timeline with its
// documents, issuers and evidence.

import { api, el, field, dataTable, chart, plot, showProblem } from "./lib.js";

export async function render(main) {
  const list = await api("GET", "/v1/tariffs");
  const select = el("select", { id: "tariff" },
    list.tariffs.map(t => el("option", { value: t.id, selected: t.id === list.default }, `${t.id} — ${t.name}`)));
  const date = el("input", { type: "date", id: "date", value: new Date().toISOString().slice(0, 10) });
  const search = el("input", { type: "search", id: "search", placeholder: "路径、名称、说明或文件 path, name, text or document", size: 36 });
  const about = el("div", { id: "tariff-about" });
  const table = el("div", { id: "parameters" });
  const timeline = el("div", { id: "timeline" });
  main.append(el("h2", {}, "电价参数 Tariff parameters"),
    el("div", { class: "row" }, field("辖区 Jurisdiction", select), field("生效日 In force on", date), field("搜索 Search", search)),
    about, table, timeline);

  let parameters = [];
  const show = () => {
    const words = search.value.trim().toLowerCase();
    const shown = parameters.filter(p => !words ||
      [p.path, p.name_zh, p.description, p.source, p.source_title, p.note].some(t => t && t.toLowerCase().includes(words)));
    table.replaceChildren(
      el("p", { class: "muted" }, `${shown.length} / ${parameters.length} 个参数 parameters；点击一行查看沿革 click a row for its timeline`),
      dataTable(`parameters-${select.value}-${date.value}`, [
        { title: "参数 Parameter", value: p => p.path },
        { title: "名称 Name", value: p => p.name_zh },
        { title: "说明 Description", value: p => p.description },
        { title: "取值 Value", value: p => p.value === null ? "—" : (typeof p.value === "string" ? p.value : JSON.stringify(p.value)) },
        { title: "单位 Unit", value: p => p.unit },
        { title: "起 From", value: p => p.from },
        { title: "止 To", value: p => p.to },
        { title: "文件 Document", value: p => p.source },
        { title: "标题 Title", value: p => p.source_title },
        { title: "暂定 Provisional", value: p => p.provisional ? "暂定 provisional" : "" },
        { title: "定义于 Defined in", value: p => p.defined_in },
      ], shown, { onRow: p => showTimeline(timeline, select.value, p.path) }));
  };
  const load = async () => {
    try {
      const t = list.tariffs.find(x => x.id === select.value);
      about.replaceChildren(el("p", { class: "muted" }, `${t.description} · 版本 version ${t.version} · `, el("code", {}, t.digest)));
      const answer = await api("GET", `/v1/tariffs/${encodeURIComponent(select.value)}/parameters?date=${date.value}`);
      parameters = answer.parameters;
      show();
    } catch (error) {
      showProblem(table, error);
    }
  };
  select.addEventListener("change", load);
  date.addEventListener("change", load);
  search.addEventListener("input", show);
  await load();
}

async function showTimeline(where, tariff, path) {
  try {
    const p = await api("GET", `/v1/tariffs/${encodeURIComponent(tariff)}/parameters/${encodeURIComponent(path)}`);
    where.replaceChildren(el("h3", { id: "timeline-title" }, `沿革 Timeline: ${p.name_zh} ${p.path}`),
      el("p", { class: "muted" }, `${p.description} (${p.unit || "—"})`));
    const numeric = p.values.every(v => v.value === null || /^-?\d+(\.\d+)?$/.test(String(v.value)));
    if (numeric && p.values.length) {
      const today = new Date().toISOString().slice(0, 10);
      const points = p.values.flatMap(v => [[v.from, plot(v.value)], [v.until || today, plot(v.value)]]);
      chart(where, {
        xAxis: { type: "time" }, yAxis: { type: "value", name: p.unit },
        series: [{ type: "line", step: "end", data: points, name: p.path }],
      });
    }
    where.append(dataTable(`timeline-${path}`, [
      { title: "起 From", value: v => v.from },
      { title: "止 Until", value: v => v.until },
      { title: "取值 Value", value: v => v.display },
      { title: "文件 Document", value: v => v.document && v.document.number },
      { title: "标题 Title", value: v => v.document && v.document.title },
      { title: "发文机关 Issuers", value: v => v.document && (v.document.issuers || []).join("、") },
      { title: "佐证 Evidence", value: v => v.document && (v.document.evidence || []).map(e => `${e.confirms} — ${e.address}`).join("\n") },
      { title: "暂定 Provisional", value: v => v.provisional ? "暂定 provisional" : "" },
      { title: "定义于 Defined in", value: v => v.defined_in },
    ], p.values));
    where.scrollIntoView();
  } catch (error) {
    showProblem(where, error);
  }
}
