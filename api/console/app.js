// The console's shell: sign-in, the locale switch, the page router (the URL's hash) and sections that show a
// problem (a 403 for a key without the role, a 409…) as a message instead of failing the page.

import { Problem, key, signIn, signOut, api } from "./api.js";
import { h, clear } from "./dom.js";
import { locale, setLocale, t, translateStatic } from "./i18n.js";
import * as assortment from "./assortment.js";
import * as attributes from "./attributes.js";
import * as structure from "./structure.js";
import * as warehouse from "./warehouse.js";

const PAGES = { structure, attributes, assortment, warehouse };
const $ = (id) => document.getElementById(id);
let rendering = 0;

// What a page's drawing is given: `section(parent, title, fill)` adds a titled section filled by `fill(body)` (a
// problem it raises is shown in it, as a message; `pending` holds those still loading), `redraw()` draws the
// page again.
function context() {
  const ctx = { pending: [], run, showProblem, redraw: route };
  ctx.section = (parent, title, fill, attrs = {}) => {
    const body = h("div", { class: "section-body" });
    const box = h("section", { class: "card", ...attrs }, h("h2", { text: title }), body);
    parent.append(box);
    ctx.pending.push(run(body, fill));
    return box;
  };
  return ctx;
}

export async function run(body, fill) {
  try {
    await fill(body);
  } catch (error) {
    showProblem(body, error);
  }
}

export function showProblem(where, error) {
  if (!(error instanceof Problem)) throw error;
  if (error.status === 401) {
    signOut();
    route();
    return;
  }
  const prefix = error.status === 403 ? t("not_allowed") : "";
  where.append(h("p", { class: "problem", role: "alert", "data-status": error.status }, prefix + error.message));
}

async function route() {
  const signedIn = Boolean(key());
  $("signin").hidden = signedIn;
  $("nav").hidden = !signedIn;
  $("signout").hidden = !signedIn;
  const page = clear($("page"));
  if (!signedIn) {
    $("key").focus();
    return;
  }
  const name = (location.hash.slice(1) || "structure").split("/")[0];
  const module = PAGES[name] ?? structure;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.page === (PAGES[name] ? name : "structure")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  // Each drawing of a page has a container of its own: one still loading when the user moves on draws into a
  // container no longer shown.
  const mine = ++rendering;
  const container = h("div");
  page.append(container);
  page.dataset.page = PAGES[name] ? name : "structure";
  page.dataset.ready = "false";
  const ctx = context();
  await module.render(container, ctx);
  while (ctx.pending.length) await ctx.pending.shift();
  if (mine === rendering) page.dataset.ready = "true";
}

async function submitKey(event) {
  event.preventDefault();
  const value = $("key").value.trim();
  clear($("signin-problem"));
  signIn(value);
  try {
    await api("/v1/category-trees?limit=1");
  } catch (error) {
    // (a key without a reader's role is refused here with a 403, yet valid: the pages say what it may see)
    if (error instanceof Problem && error.status === 401) {
      signOut();
      $("signin-problem").textContent = t("bad_key");
      return;
    }
  }
  $("key").value = "";
  route();
}

function start() {
  setLocale(sessionStorage.getItem("merchflow.locale") || "zh-CN");
  $("locale").value = locale();
  translateStatic(document);
  $("locale").addEventListener("change", (event) => {
    setLocale(event.target.value);
    translateStatic(document);
    route();
  });
  $("signin").addEventListener("submit", submitKey);
  $("signout").addEventListener("click", () => {
    signOut();
    route();
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
