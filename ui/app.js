// The workbench shell: sign-in (the key kept for this browser session only), navigation by
// role (a page whose calls the key may not make is not offered), and the page router.

import { api, el, setKey, showProblem, Problem } from "./lib.js";
import * as tariffs from "./tariffs.js";
import * as bill from "./bill.js";
import * as whatif from "./whatif.js";
import * as batch from "./batch.js";

const pages = {
  tariffs: { module: tariffs, role: "reader" },
  bill: { module: bill, role: "biller" },
  whatif: { module: whatif, role: "analyst" },
  batch: { module: batch, role: "biller" },
};

let caller = null;

function may(role) {
  return !!caller && (caller.roles.includes(role) || caller.roles.includes("admin"));
}

async function identify() {
  try {
    caller = await api("GET", "/v1/caller");
  } catch (error) {
    caller = null;
    if (!(error instanceof Problem) || error.status !== 401) throw error;
  }
}

function renderSession() {
  const box = document.getElementById("session");
  if (caller && !caller.access_control) {
    box.replaceChildren(el("span", { class: "muted" }, "未启用密钥 Access control off"));
    return;
  }
  if (caller) {
    box.replaceChildren(
      el("span", { id: "signed-in" }, `已登录 Signed in: ${caller.key} (${caller.roles.join(", ")})`), " ",
      el("button", { class: "secondary", id: "sign-out", onclick: () => { setKey(null); caller = null; start(); } }, "退出 Sign out"));
    return;
  }
  const input = el("input", { type: "password", id: "api-key", autocomplete: "off", placeholder: "API key" });
  const form = el("form", { id: "sign-in" }, input, " ", el("button", { type: "submit" }, "登录 Sign in"));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    setKey(input.value.trim());
    input.value = "";
    await start();
    if (!caller) {
      setKey(null);
      showProblem(document.getElementById("main"), new Error("密钥无效 The API key is not valid"));
    }
  });
  box.replaceChildren(form);
}

function renderNav(current) {
  for (const a of document.querySelectorAll("#nav a[data-role]")) {
    a.classList.toggle("hidden", !may(a.dataset.role));
    a.classList.toggle("active", a.getAttribute("href") === "#/" + current);
  }
}

async function route() {
  const main = document.getElementById("main");
  const [name, query] = (location.hash.replace(/^#\/?/, "") || "tariffs").split("?");
  renderNav(name);
  if (!caller) {
    main.replaceChildren(el("p", {}, "请输入 API 密钥登录。Sign in with your API key (kept for this browser session only)."));
    return;
  }
  const page = pages[name];
  if (!page || !may(page.role)) {
    main.replaceChildren(el("p", {}, "此密钥无权访问该页面。This key may not use that page."));
    return;
  }
  main.replaceChildren();
  try {
    await page.module.render(main, { may, params: new URLSearchParams(query || "") });
  } catch (error) {
    showProblem(main, error);
  }
}

async function start() {
  await identify();
  renderSession();
  await route();
}

window.addEventListener("hashchange", route);
start().catch(error => showProblem(document.getElementById("main"), error));
