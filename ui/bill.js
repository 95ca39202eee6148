// Bill: one enterprise priced and explained. The form writes the request (which can be
// edited as JSON for assessments and water); the answer shows every line with its basis,
// superseded lines struck through, warnings, and a link that reproduces the bill.

import { api, el, field, figures, named, INDUSTRIES, dataTable, yuan, showProblem, exportButtons, tariffChoice } from "./lib.js";

const CLASSES = ["", "encouraged", "permitted", "restricted", "eliminated"];

const EXAMPLE = {
  tariff: "cn-sx-xinzhou",
  period: { start: "2020-10-01", end: "2020-10-31" },
  enterprise: { id: "XZ-0001", name: "忻州某钢铁", industry: "steel", catalogue_class: "restricted" },
  assessment: { year: 2019, steel_processes: [{ process: "blast_furnace", intensity: "440" }] },
  electricity: { kwh: "1250000", base_price: "0.4523" },
};

// A reproduction link carries the request in the fragment (never sent to a server).
function encode(request) { return btoa(unescape(encodeURIComponent(JSON.stringify(request)))); }
function decode(text) { return JSON.parse(decodeURIComponent(escape(atob(text)))); }

export async function render(main, { params, may }) {
  const request = params.get("request") ? decode(params.get("request")) : structuredClone(EXAMPLE);
  const digest = params.get("tariff_digest");

  const input = (id, value, attrs = {}) => el("input", Object.assign({ id, value: value ?? "" }, attrs));
  const choose = (id, options, value) => el("select", { id }, options.map(o => el("option", { value: o, selected: o === value }, o ? named(o) : "—")));
  const e = request.enterprise || {};
  const form = {
    tariff: await tariffChoice("f-tariff", request.tariff, may),
    id: input("f-id", e.id),
    name: input("f-name", e.name),
    industry: choose("f-industry", ["", ...INDUSTRIES], e.industry || ""),
    catalogue_class: choose("f-class", CLASSES, e.catalogue_class || ""),
    start: input("f-start", request.period && request.period.start, { type: "date" }),
    end: input("f-end", request.period && request.period.end, { type: "date" }),
    kwh: input("f-kwh", request.electricity && request.electricity.kwh, { inputmode: "decimal" }),
    base_price: input("f-base", request.electricity && request.electricity.base_price, { inputmode: "decimal" }),
  };
  const json = el("textarea", { id: "f-json", spellcheck: "false" });
  json.value = JSON.stringify(request, null, 2);
  const fromRegistry = el("p", { class: "muted" }, "留空行业即按登记簿填充分类与考核。Leave the industry empty to have the registry fill the classification and assessment.");
  // Picking an enterprise from the registry (a key that may read it): what the registry holds
  // on the period's first day, and a request that leaves the rest to it.
  const registry = el("div", { id: "registry-record" });
  const lookUp = may("reader") ? el("button", { class: "secondary", id: "look-up", onclick: async () => {
    try {
      const day = form.start.value ? `?date=${form.start.value}` : "";
      const record = await api("GET", `/v1/enterprises/${encodeURIComponent(form.id.value.trim())}${day}`);
      const c = record.classification;
      registry.replaceChildren(el("p", {},
        `登记簿 Registry v${record.version}: ${record.master.name || ""} · ${named(record.master.industry)}`,
        c ? ` · ${named(c.decision.catalogue_class)}（${c.decision.document}，v${c.version}）` : " · 无分类决定 no classification decision",
        record.assessment ? ` · ${record.assessment.year} 年考核 assessment v${record.assessment.version}` : ""));
      form.name.value = record.master.name || "";
      form.industry.value = "";
      form.catalogue_class.value = "";
      let current;
      try { current = JSON.parse(json.value); } catch (_) { current = {}; }
      delete current.assessment;
      json.value = JSON.stringify(current);
      sync();
    } catch (error) { showProblem(registry, error); }
  } }, "从登记簿选取 Pick from the registry") : null;

  const sync = () => {
    let current;
    try { current = JSON.parse(json.value); } catch (_) { current = {}; }
    current.tariff = form.tariff.value;
    current.period = { start: form.start.value, end: form.end.value };
    current.enterprise = Object.assign({}, current.enterprise, { id: form.id.value, name: form.name.value || undefined });
    for (const k of ["industry", "catalogue_class"]) {
      if (form[k].value) current.enterprise[k] = form[k].value; else delete current.enterprise[k];
    }
    current.electricity = Object.assign({}, current.electricity, { kwh: form.kwh.value, base_price: form.base_price.value || undefined });
    json.value = JSON.stringify(current, null, 2);
  };
  Object.values(form).forEach(f => f.addEventListener("change", sync));

  const result = el("div", { id: "bill-result" });
  const price = el("button", { id: "price" }, "计费 Price");
  price.addEventListener("click", async () => {
    price.disabled = true;
    try {
      const body = JSON.parse(json.value);
      const query = digest ? `?explain=full&tariff_digest=${encodeURIComponent(digest)}` : "?explain=full";
      const answer = await api("POST", "/v1/bills" + query, { json: body });
      showBill(result, body, answer);
      result.scrollIntoView();
    } catch (error) {
      showProblem(result, error instanceof SyntaxError ? new Error("请求不是有效的 JSON: " + error.message) : error);
    } finally {
      price.disabled = false;
    }
  });

  main.append(el("h2", {}, "单户计费 Price one enterprise"),
    el("div", { class: "row" },
      field("电价 Tariff", form.tariff), field("企业编号 Enterprise id", form.id), lookUp, field("名称 Name", form.name),
      field("行业 Industry", form.industry), field("目录类别 Catalogue class", form.catalogue_class)),
    el("div", { class: "row" },
      field("起 Start", form.start), field("止 End", form.end),
      field("用电量 kWh", form.kwh), field("基础电价 Base price (元/kWh)", form.base_price)),
    fromRegistry, registry,
    el("details", {}, el("summary", {}, "请求 JSON（可编辑：考核、用水等）Request as JSON (edit for assessments, water…)"), json),
    price, result);
  if (params.get("request")) price.click();
}

function showBill(where, request, bill) {
  const t = bill.totals;
  const headline = figures([["加价合计 Surcharge", t.surcharge], ["电费加价 Electricity surcharge", t.electricity_surcharge],
    ["水费加价 Water surcharge", t.water_surcharge], ["基础 Base", t.base], ["合计 Total", t.total]]
    .map(([label, value]) => [label, yuan(value)]));
  const lines = [
    { title: "规则 Rule", value: l => l.rule },
    { title: "措施 Kind", value: l => named(l.kind) },
    { title: "状态 Status", value: l => l.status },
    { title: "起 From", value: l => l.from },
    { title: "止 To", value: l => l.to },
    { title: "数量 Quantity", kind: "number", value: l => l.quantity },
    { title: "单位 Unit", value: l => l.unit },
    { title: "费率 Rate", kind: "number", value: l => l.rate },
    { title: "金额 Amount (元)", kind: "money", value: l => l.amount },
    { title: "依据 Basis", value: l => (l.basis || []).map(b => `${b.document} ${b.parameter} = ${b.value}${b.provisional ? "（暂定 provisional）" : ""}`).join("\n") },
    { title: "说明 Explanation", value: l => l.explanation },
  ];
  const link = `#/bill?request=${encodeURIComponent(encode(request))}&tariff_digest=${encodeURIComponent(bill.tariff.digest)}`;
  where.replaceChildren(
    el("h3", {}, `账单 Bill ${bill.enterprise_id} · ${bill.period.start} – ${bill.period.end}`),
    headline,
    (bill.warnings || []).map(w => el("div", { class: "warning" }, typeof w === "string" ? w : (w.message || JSON.stringify(w)))),
    dataTable(`bill-${bill.bill_id}`, lines, bill.line_items, { rowClass: l => l.status === "applied" ? "" : "superseded" }),
    el("h3", {}, "复现 Reproduce"),
    el("div", { class: "trace", id: "bill-trace" },
      el("div", {}, "bill_id: ", el("code", { id: "bill-id" }, bill.bill_id)),
      el("div", {}, "tariff: ", `${bill.tariff.id} ${bill.tariff.version} `, el("code", { id: "bill-digest" }, bill.tariff.digest)),
      el("div", {}, "engine: ", bill.engine_version),
      el("div", {}, el("a", { href: link, id: "reproduce" }, "复现此账单的链接 A link that prices this request again on this tariff"))),
    el("details", {}, el("summary", {}, "请求 Request"), el("pre", { class: "trace" }, JSON.stringify(request, null, 2))),
    exportButtons(`bill-${bill.bill_id}-all`, [
      { name: "账单行 Lines", columns: lines, rows: bill.line_items },
      { name: "合计 Totals", columns: [{ title: "项目 Item", value: r => r[0] }, { title: "金额 Amount (元)", kind: "money", value: r => r[1] }],
        rows: Object.entries(t) },
    ]));
}
