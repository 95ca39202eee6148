// Batch: a file of meter readings priced through POST /v1/bills/batch, its upload and its
// answer watched as they go, the bills kept for download (as the service wrote them) and
// the failures listed with their lines.

import { el, field, figures, dataTable, yuan, group, showProblem, authHeaders } from "./lib.js";

export async function render(main) {
  const file = el("input", { type: "file", id: "batch-file", accept: ".csv,.ndjson,.jsonl,text/csv,application/x-ndjson" });
  const detail = el("select", { id: "batch-detail" }, [["lines", "逐行 every line"], ["totals", "仅合计 totals only"]].map(([v, t]) => el("option", { value: v }, t)));
  const upload = el("progress", { id: "upload-progress", max: 1, value: 0 });
  const answered = el("span", { id: "answered" }, "");
  const result = el("div", { id: "batch-result" });
  const start = el("button", { id: "start-batch" }, "开始计费 Price the file");
  start.addEventListener("click", () => {
    const f = file.files[0];
    if (!f) { showProblem(result, new Error("请选择文件 Choose a file")); return; }
    start.disabled = true;
    run(f, detail.value, upload, answered, result).finally(() => { start.disabled = false; });
  });
  main.append(el("h2", {}, "批量计费 Batch billing"),
    el("div", { class: "row" }, field("CSV / NDJSON", file), field("明细 Detail", detail), start),
    el("p", {}, "上传 Upload ", upload, " ", answered),
    result);
}

function run(f, detail, upload, answered, result) {
  const csv = /\.csv$/i.test(f.name);
  return new Promise(resolve => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/bills/batch?detail=${detail}`);
    for (const [name, value] of Object.entries(authHeaders({ "Content-Type": csv ? "text/csv" : "application/x-ndjson" }))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = e => { if (e.lengthComputable) { upload.max = e.total; upload.value = e.loaded; } };
    // Lines counted as they arrive: only the new part of the answer is scanned each time.
    let seen = 0, lines = 0;
    xhr.onprogress = () => {
      const text = xhr.responseText;
      lines += count(text, seen);
      seen = text.length;
      answered.textContent = `已返回 answered: ${group(String(lines))} 行 lines`;
    };
    xhr.onload = () => {
      xhr.onprogress();
      upload.value = upload.max;
      if (xhr.status !== 200) {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        showProblem(result, Object.assign(new Error(body.detail || `HTTP ${xhr.status}`), { body }));
      } else {
        show(result, f.name, xhr.responseText, csv);
      }
      resolve();
    };
    xhr.onerror = () => { showProblem(result, new Error("连接中断 The connection failed")); resolve(); };
    xhr.send(f);
  });
}

function count(text, from) {
  let n = 0;
  for (let i = text.indexOf("\n", from); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function show(where, name, text, csv) {
  const { summary, failures } = csv ? readCsv(text) : readNdjson(text);
  const base = name.replace(/\.[^.]*$/, "");
  const blob = new Blob([text], { type: csv ? "text/csv" : "application/x-ndjson" });
  where.replaceChildren(
    figures([["行 Lines", group(String(summary.lines))], ["已计费 Billed", group(String(summary.billed))],
      ["失败 Failed", group(String(summary.failed))], ["加价 Surcharge", yuan(summary.surcharge)], ["合计 Total", yuan(summary.total)]]),
    el("p", {}, el("a", { id: "download-bills", href: URL.createObjectURL(blob), download: `${base}-bills.${csv ? "csv" : "ndjson"}` }, "下载账单 Download the bills")),
    failures.length ? dataTable("batch-failures", [
      { title: "行 Line", kind: "number", value: f => String(f.line) },
      { title: "企业 Enterprise", value: f => f.enterprise_id },
      { title: "错误 Error", value: f => f.error },
    ], failures) : el("p", { class: "muted" }, "全部计费成功 Every line was billed."));
}

function readNdjson(text) {
  const failures = [];
  let summary = {};
  for (const line of text.split("\n")) {
    if (!line) continue;
    const record = JSON.parse(line);
    if (record.summary) summary = record.summary;
    else if (record.error) failures.push({ line: record.line, enterprise_id: record.enterprise_id || "", error: record.error.detail });
  }
  return { summary, failures };
}

// The CSV answer's last row is its summary; failed rows carry their error.
function readCsv(text) {
  const rows = text.replace(/^\uFEFF/, "").trim().split("\n").map(splitCsv);
  const head = rows[0];
  const at = name => head.indexOf(name);
  const failures = rows.slice(1).filter(r => r[at("status")] === "failed")
    .map(r => ({ line: r[at("line")], enterprise_id: r[at("enterprise_id")], error: r[at("error")] }));
  const last = rows[rows.length - 1];
  const summary = { lines: last[at("lines")], billed: last[at("billed")], failed: last[at("failed")], surcharge: last[at("surcharge")], total: last[at("total")] };
  return { summary, failures };
}

function splitCsv(line) {
  const cells = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { cells.push(cell); cell = ""; }
    else cell += ch;
  }
  cells.push(cell.replace(/\r$/, ""));
  return cells;
}
