// What-if: a population kept on the server (a file, or the registry's bills of a month), a
// reform (parameter values with dates, or a draft tariff file), an optional sweep or goal;
// the answer as figures, charts by industry, class and measure, the histogram of changes,
// the top movers and the sweep's revenue curve. Every result names its reform, population
// and tariff digests, so a chart can be traced back.

import { api, el, field, figures, named, INDUSTRIES, tone, dataTable, yuan, signedYuan, group, chart, plot, showProblem, exportButtons, tariffChoice } from "./lib.js";

export async function render(main, { may }) {
  const state = { population: null };

  // ---- population ----
  const file = el("input", { type: "file", id: "population-file", accept: ".csv,.ndjson,.jsonl,text/csv,application/x-ndjson" });
  const month = el("input", { type: "month", id: "ledger-month" });
  const industry = el("select", { id: "ledger-industry" }, ["", ...INDUSTRIES].map(i => el("option", { value: i }, i ? named(i) : "全部 all")));
  const region = el("input", { id: "ledger-region", size: 10 });
  const asOf = el("input", { type: "date", id: "ledger-as-of" });
  const kept = el("select", { id: "kept" });
  const chosen = el("div", { id: "population", class: "muted" }, "尚未选择人群 No population chosen yet");
  const refreshKept = async () => {
    const answer = await api("GET", "/v1/populations");
    kept.replaceChildren(el("option", { value: "" }, "—"),
      answer.populations.map(p => el("option", { value: p.population_id }, `${p.population_id} · ${p.records} 户 records · ${p.created_at.slice(0, 19)}`)));
  };
  const choose = p => {
    state.population = p;
    chosen.replaceChildren(el("strong", {}, p.population_id), ` · ${group(String(p.records))} 户 records · 剔除 excluded ${p.excluded} · `, el("code", {}, p.digest));
    if (p.excluded_examples && p.excluded_examples.length) {
      chosen.append(el("ul", {}, p.excluded_examples.map(x => el("li", {}, typeof x === "string" ? x : JSON.stringify(x)))));
    }
  };
  const keep = async (body, contentType) => {
    chosen.replaceChildren("读取中 Reading…");
    try {
      choose(await api("POST", "/v1/populations", contentType ? { body, contentType } : { json: body }));
      await refreshKept();
    } catch (error) { showProblem(chosen, error); }
  };
  file.addEventListener("change", () => {
    const f = file.files[0];
    if (f) keep(f, /\.csv$/i.test(f.name) ? "text/csv" : "application/x-ndjson");
  });
  const fromLedger = el("button", { class: "secondary", id: "keep-ledger", onclick: () => keep({ ledger: Object.fromEntries(Object.entries({
    month: month.value, industry: industry.value, region: region.value.trim(), as_of: asOf.value }).filter(([, v]) => v)) }) }, "取登记簿 Use the registry");
  kept.addEventListener("change", async () => {
    if (!kept.value) return;
    // A kept population may have been let go to make room since the list was read.
    try { choose(await api("GET", `/v1/populations/${encodeURIComponent(kept.value)}`)); } catch (error) { showProblem(chosen, error); }
  });

  // ---- reform ----
  const tariff = await tariffChoice("sim-tariff", null, may);
  tariff.placeholder = "默认 default";
  // The parameter paths offered as one types, where the key may list them.
  const paths = el("datalist", { id: "parameter-paths" });
  if (may("reader") && tariff.value) {
    const listing = await api("GET", `/v1/tariffs/${encodeURIComponent(tariff.value)}/parameters`);
    paths.append(...listing.parameters.map(p => el("option", { value: p.path }, p.name_zh)));
  }
  const name = el("input", { id: "reform-name", value: "淘汰类钢铁加价 0.80 eliminated steel at 0.80", size: 40 });
  const rows = el("tbody", { id: "reform-rows" });
  const addRow = (path = "", value = "", from = "") => {
    const tr = el("tr", {},
      el("td", {}, el("input", { class: "r-path", value: path, size: 44, list: "parameter-paths", placeholder: "electricity.differential.steel.eliminated" })),
      el("td", {}, el("input", { class: "r-value", value, size: 8 })),
      el("td", {}, el("input", { class: "r-from", type: "date", value: from })),
      el("td", {}, el("button", { class: "secondary", onclick: () => tr.remove() }, "删除 Remove")));
    rows.append(tr);
  };
  addRow("electricity.differential.steel.eliminated", "0.80");
  const draft = el("textarea", { id: "draft", class: "short", placeholder: "可选：草案电价文件 (TOML) Optional: a draft tariff file (TOML)" });

  // ---- sweep or goal ----
  const sweep = { parameter: el("input", { id: "sweep-parameter", size: 44, list: "parameter-paths" }), from: el("input", { id: "sweep-from", size: 6 }), to: el("input", { id: "sweep-to", size: 6 }), step: el("input", { id: "sweep-step", size: 6 }) };
  const goal = { parameter: el("input", { id: "goal-parameter", size: 44, list: "parameter-paths" }), target: el("input", { id: "goal-target", size: 12 }), lo: el("input", { id: "goal-lo", size: 6 }), hi: el("input", { id: "goal-hi", size: 6 }) };
  const top = el("input", { id: "top", type: "number", value: 20, min: 1, max: 1000, size: 5 });

  const result = el("div", { id: "whatif-result" });
  const run = el("button", { id: "run" }, "模拟 Run");
  run.addEventListener("click", async () => {
    if (!state.population) { showProblem(result, new Error("请先选择人群 Choose a population first")); return; }
    const parameters = {};
    for (const tr of rows.querySelectorAll("tr")) {
      const path = tr.querySelector(".r-path").value.trim();
      const value = tr.querySelector(".r-value").value.trim();
      const from = tr.querySelector(".r-from").value;
      if (path) parameters[path] = from ? { value, from } : value;
    }
    const body = { tariff: tariff.value || undefined, reform: { name: name.value, parameters }, population_id: state.population.population_id, top: Number(top.value) || 20 };
    if (draft.value.trim()) body.reform.tariff_file = draft.value;
    if (sweep.parameter.value.trim()) body.sweep = { parameter: sweep.parameter.value.trim(), from: sweep.from.value, to: sweep.to.value, step: sweep.step.value };
    if (goal.parameter.value.trim()) body.goal = { parameter: goal.parameter.value.trim(), target: goal.target.value, lo: goal.lo.value, hi: goal.hi.value };
    run.disabled = true;
    result.replaceChildren(el("p", { class: "muted" }, "计算中 Computing…"));
    const started = performance.now();
    try {
      const report = await api("POST", "/v1/simulations", { json: body });
      showReport(result, body, report, state.population, performance.now() - started);
      result.scrollIntoView();
    } catch (error) {
      showProblem(result, error);
    } finally {
      run.disabled = false;
    }
  });

  main.append(el("h2", {}, "政策模拟 What-if"), paths,
    el("div", { class: "panel" }, el("h3", {}, "1. 人群 Population"),
      el("div", { class: "row" }, field("上传 CSV / NDJSON Upload", file), field("或已保存 Or kept", kept)),
      el("div", { class: "row" }, field("账期 Month", month), field("行业 Industry", industry), field("地区 Region", region), field("登记簿日期 Registry as of", asOf), fromLedger),
      chosen),
    el("div", { class: "panel" }, el("h3", {}, "2. 改革 Reform"),
      el("div", { class: "row" }, field("基准电价 Tariff", tariff), field("名称 Name", name)),
      el("table", {}, el("thead", {}, el("tr", {}, ["参数路径 Parameter path", "取值 Value", "自 From (可选 optional)", ""].map(h => el("th", {}, h)))), rows),
      el("button", { class: "secondary", id: "add-row", onclick: () => addRow() }, "添加参数 Add a parameter"),
      el("details", {}, el("summary", {}, "草案电价文件 Draft tariff file"), draft)),
    el("div", { class: "panel" }, el("h3", {}, "3. 扫描或目标（可选）Sweep or goal (optional)"),
      el("div", { class: "row" }, field("扫描参数 Sweep parameter", sweep.parameter), field("从 From", sweep.from), field("到 To", sweep.to), field("步长 Step", sweep.step)),
      el("div", { class: "row" }, field("目标参数 Goal parameter", goal.parameter), field("加价变动目标 Target Δ (元)", goal.target), field("下限 Lo", goal.lo), field("上限 Hi", goal.hi)),
      el("div", { class: "row" }, field("变动最大前 N Top movers", top))),
    run, result);
  await refreshKept();
}

function breakdown(report, key) {
  const names = Object.keys(report.baseline[key]);
  const amount = (side, n) => {
    const v = report[side][key][n];
    return v === undefined ? "0.00" : (typeof v === "string" ? v : v.surcharge);
  };
  return names.map(n => ({ name: named(n), baseline: amount("baseline", n), reform: amount("reform", n), delta: amount("delta", n),
    enterprises: typeof report.baseline[key][n] === "object" ? report.baseline[key][n].enterprises : null }));
}

function showReport(where, body, report, population, millis) {
  const c = report.changes;
  where.replaceChildren(
    el("h3", {}, `结果 Result: ${report.scenario.name}`),
    el("p", { class: "muted", id: "elapsed" }, `${group(String(report.population.priced))} 户 priced · ${(millis / 1000).toFixed(2)} s`),
    figures([
      ["基准加价 Baseline surcharge", yuan(report.baseline.surcharge), "baseline-surcharge"],
      ["改革加价 Reform surcharge", yuan(report.reform.surcharge), "reform-surcharge"],
      ["加价变动 Δ surcharge", signedYuan(report.delta.surcharge), "delta-surcharge", tone(report.delta.surcharge)],
      ["合计变动 Δ total", signedYuan(report.delta.total), "delta-total", tone(report.delta.total)],
      ["多缴 / 少缴 / 不变 More / less / same", `${c.more} / ${c.less} / ${c.same}`, "changes"],
    ]),
    el("div", { class: "trace", id: "whatif-trace" },
      el("div", {}, `改革 reform: ${report.scenario.name} · ${report.scenario.overrides} 项 overrides${report.scenario.draft ? " · 草案 draft" : ""}`),
      el("div", {}, "基准 baseline: ", `${report.tariff.id} `, el("code", {}, report.tariff.digest)),
      el("div", {}, "改革 reform: ", `${report.scenario.tariff.id} `, el("code", {}, report.scenario.tariff.digest)),
      el("div", {}, "人群 population: ", el("code", {}, population.population_id), " ", el("code", {}, population.digest)),
      el("details", {}, el("summary", {}, "请求 Request"), el("pre", {}, JSON.stringify(body, null, 2)))));

  const charts = el("div", { class: "charts" });
  where.append(charts);
  const tables = [];
  for (const [key, title] of [["by_industry", "按行业 By industry"], ["by_catalogue_class", "按目录类别 By catalogue class"], ["by_measure", "按措施 By measure"]]) {
    const rows = breakdown(report, key);
    const box = el("div", { "data-chart": key }, el("h3", {}, `加价 Surcharge ${title}`));
    charts.append(box);
    chart(box, {
      legend: { top: 0 }, grid: { left: 90, right: 20, top: 40, bottom: 80 },
      xAxis: { type: "category", data: rows.map(r => r.name), axisLabel: { interval: 0, rotate: 30 } }, yAxis: { type: "value", name: "元" },
      series: [{ name: "基准 Baseline", type: "bar", data: rows.map(r => plot(r.baseline)) }, { name: "改革 Reform", type: "bar", data: rows.map(r => plot(r.reform)) }],
    });
    tables.push({ name: title, columns: [
      { title: "类别 Category", value: r => r.name },
      { title: "企业数 Enterprises", kind: "number", value: r => r.enterprises === null ? null : String(r.enterprises) },
      { title: "基准加价 Baseline (元)", kind: "money", value: r => r.baseline },
      { title: "改革加价 Reform (元)", kind: "money", value: r => r.reform },
      { title: "变动 Delta (元)", kind: "money", value: r => r.delta },
    ], rows });
  }
  const bins = report.histogram;
  const histogram = el("div", { "data-chart": "histogram" }, el("h3", {}, "每户变动分布 Per-enterprise change (元)"));
  charts.append(histogram);
  const binName = b => `${b.from === null ? "…" : group(b.from)} ~ ${b.to === null ? "…" : group(b.to)}`;
  chart(histogram, { xAxis: { type: "category", data: bins.map(binName), axisLabel: { rotate: 30 } }, yAxis: { type: "value", name: "户" },
    grid: { left: 60, right: 20, top: 40, bottom: 90 }, series: [{ type: "bar", name: "户数 Enterprises", data: bins.map(b => b.count) }] });
  tables.push({ name: "分布 Histogram", columns: [
    { title: "自 From (元)", kind: "money", value: b => b.from }, { title: "至 To (元)", kind: "money", value: b => b.to },
    { title: "户数 Enterprises", kind: "number", value: b => String(b.count) }], rows: bins });

  if (report.sweep) {
    const box = el("div", { "data-chart": "sweep" }, el("h3", {}, `收入曲线 Revenue curve: ${report.sweep.parameter}`));
    charts.append(box);
    const series = [{ name: "加价 Surcharge", type: "line", data: report.sweep.points.map(p => [plot(p.value), plot(p.surcharge)]) }];
    if (report.goal) {
      series[0].markLine = { symbol: "none", data: [{ xAxis: plot(report.goal.value), name: "目标 goal" }], label: { formatter: `目标 goal ${report.goal.value}` } };
    }
    chart(box, { xAxis: { type: "value", name: report.sweep.parameter, scale: true }, yAxis: { type: "value", name: "元", scale: true }, series });
    tables.push({ name: "扫描 Sweep", columns: [
      { title: "取值 Value", kind: "number", value: p => p.value },
      { title: "加价 Surcharge (元)", kind: "money", value: p => p.surcharge },
      { title: "合计 Total (元)", kind: "money", value: p => p.total },
      { title: "加价变动 Δ surcharge (元)", kind: "money", value: p => p.delta_surcharge },
      { title: "多缴 More", kind: "number", value: p => String(p.more) },
      { title: "少缴 Less", kind: "number", value: p => String(p.less) },
    ], rows: report.sweep.points });
  }
  if (report.goal) {
    const g = report.goal;
    where.append(el("p", { id: "goal" }, `目标 Goal: ${g.parameter} = `, el("strong", {}, g.value), ` → ${signedYuan(g.achieved)}（目标 target ${yuan(g.target)}${g.exact ? "，精确 exact" : ""}）`));
  }
  const movers = {
    name: "变动最大 Top movers", columns: [
      { title: "企业 Enterprise", value: e => e.enterprise_id },
      { title: "行业 Industry", value: e => named(e.industry) },
      { title: "类别 Class", value: e => named(e.catalogue_class) },
      { title: "基准加价 Baseline (元)", kind: "money", value: e => e.baseline.surcharge },
      { title: "改革加价 Reform (元)", kind: "money", value: e => e.reform.surcharge },
      { title: "变动 Delta (元)", kind: "money", value: e => e.delta },
    ], rows: report.enterprises };
  const summary = { name: "概要 Summary", columns: [{ title: "项目 Item", value: r => r[0] }, { title: "基准 Baseline (元)", kind: "money", value: r => r[1] },
    { title: "改革 Reform (元)", kind: "money", value: r => r[2] }, { title: "变动 Delta (元)", kind: "money", value: r => r[3] }],
    rows: [["加价 Surcharge", report.baseline.surcharge, report.reform.surcharge, report.delta.surcharge], ["合计 Total", report.baseline.total, report.reform.total, report.delta.total]] };
  where.append(el("h3", {}, "导出 Export"), exportButtons("whatif-" + population.population_id, [summary, ...tables, movers]),
    el("h3", {}, "变动最大 Top movers"), dataTable("top-movers", movers.columns, movers.rows));
  for (const t of tables) where.append(el("h3", {}, t.name), dataTable(t.name, t.columns, t.rows));
}
