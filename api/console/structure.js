// Structure: the category tree of a chosen tree with each node's product count and role mix, the series, a
// node's products with lifecycle and completeness, and moving a category (a cycle's 409 shown as a message).

import { all, api, Problem } from "./api.js";
import { clear, h, pct, svg } from "./dom.js";
import { label, t } from "./i18n.js";

const ROLE_ORDER = ["destination", "routine", "image", "promotion"];
const STAGES = ["purchasing", "warehousing", "listing", "marketing", "service", "finance"];
const SHOWN = 100;
let chosenTree = null;
let justMoved = null; // the category the last move moved, said once after the page is drawn again

export function roleOrder(roles) {
  const known = roles.map((r) => r.code);
  return [...ROLE_ORDER.filter((c) => known.includes(c)), ...known.filter((c) => !ROLE_ORDER.includes(c)).sort()];
}

// Each category's code → the codes of its subtree (itself included), walking the nested tree.
function subtrees(nodes, into = new Map()) {
  for (const node of nodes) {
    subtrees(node.children, into);
    const codes = new Set([node.code]);
    for (const child of node.children) for (const c of into.get(child.code)) codes.add(c);
    into.set(node.code, codes);
  }
  return into;
}

function flatten(nodes, depth = 0, out = []) {
  for (const node of nodes) {
    out.push({ node, depth });
    flatten(node.children, depth + 1, out);
  }
  return out;
}

// A small bar of the role mix: one segment per role, its width the role's share of the products.
export function roleBar(counts, order, roleLabels, width = 120) {
  const total = order.reduce((sum, code) => sum + (counts[code] || 0), 0);
  const bar = svg("svg", { class: "rolebar", width, height: 12, viewBox: `0 0 ${width} 12`, role: "img" });
  const parts = [];
  let x = 0;
  for (const code of order) {
    const n = counts[code] || 0;
    if (!n) continue;
    const w = (n / total) * width;
    bar.append(svg("rect", { x, y: 0, width: w, height: 12, class: `role-${order.indexOf(code) % 8}` },
      svg("title", { text: `${roleLabels[code] ?? code}: ${n}` })));
    parts.push(`${roleLabels[code] ?? code} ${n}`);
    x += w;
  }
  if (!total) bar.append(svg("rect", { x: 0, y: 0, width, height: 12, class: "role-none" }));
  bar.setAttribute("aria-label", `${t("role_mix")}: ${parts.join(", ") || t("none")}`);
  return bar;
}

function legend(order, roleLabels) {
  return h("p", { class: "legend" }, order.map((code, i) =>
    h("span", {}, svg("svg", { width: 12, height: 12, "aria-hidden": "true" },
      svg("rect", { width: 12, height: 12, class: `role-${i % 8}` })), ` ${roleLabels[code] ?? code}`)));
}

export async function render(page, ctx) {
  const trees = await loadOr(page, ctx, () => all("/v1/category-trees"));
  if (!trees) return;
  if (!trees.some((tr) => tr.code === chosenTree)) chosenTree = (trees.find((tr) => tr.code === "merch") ?? trees[0])?.code;
  const select = h("select", { id: "tree-select", onchange: (e) => { chosenTree = e.target.value; ctx.redraw(); } },
    trees.map((tr) => h("option", { value: tr.code, selected: tr.code === chosenTree }, label(tr.labels, tr.code))));
  page.append(h("div", { class: "toolbar" }, h("h1", { text: t("structure") }),
    h("label", {}, `${t("tree")} `, select)));
  if (!chosenTree) return;

  const [nested, products, roles, series] = await Promise.all([
    api(`/v1/category-trees/${encodeURIComponent(chosenTree)}/tree`), all("/v1/products"), all("/v1/roles"),
    all("/v1/series"),
  ]).catch((error) => { ctx.showProblem(page, error); return []; });
  if (!nested) return;

  const order = roleOrder(roles);
  const roleLabels = Object.fromEntries(roles.map((r) => [r.code, label(r.labels, r.code)]));
  const below = subtrees(nested.categories);
  const inTree = (p) => [p.category, ...(p.categories || [])].find((c) => below.has(c));
  const mix = (codes) => {
    const counts = {};
    for (const p of products) if (codes.has(inTree(p))) counts[p.role] = (counts[p.role] || 0) + 1;
    return counts;
  };

  const grid = h("div", { class: "grid two" });
  page.append(grid);
  const moveResult = h("p", { id: "move-result", role: "status" }, justMoved ? `${t("moved")} ${justMoved}` : "");
  justMoved = null;
  const detail = h("div", { class: "section-body", id: "node-products" }, h("p", { text: t("pick_node") }));

  ctx.section(grid, `${label(nested.tree.labels, nested.tree.code)} · ${t("role_mix")}`, async (body) => {
    body.append(legend(order, roleLabels));
    const list = (nodes) => h("ul", { class: "tree" }, nodes.map((node) => h("li", {},
      h("button", {
        type: "button", class: "node", dataset: { code: node.code, count: node.subtree_products },
        ...draggable(ctx, moveResult, node),
        onclick: (e) => showProducts(ctx, detail, node, products.filter((p) => below.get(node.code).has(inTree(p))), roleLabels, e.currentTarget),
      },
        h("span", { class: "node-label", text: label(node.labels, node.code) }),
        h("span", { class: "count", title: t("count"), text: node.subtree_products }),
        roleBar(mix(below.get(node.code)), order, roleLabels)),
      node.children.length ? list(node.children) : null)));
    body.append(list(nested.categories));
  }, { id: "tree" });

  grid.append(h("section", { class: "card", id: "products" }, h("h2", { text: t("products") }), detail));

  ctx.section(page, t("series"), async (body) => {
    body.append(h("table", {}, h("thead", {}, h("tr", {}, h("th", { text: t("series") }), h("th", { text: t("count") }),
      h("th", { text: t("role_mix") }))),
    h("tbody", {}, series.map((s) => {
      const members = products.filter((p) => (p.series || []).includes(s.code) && inTree(p));
      const counts = {};
      for (const p of members) counts[p.role] = (counts[p.role] || 0) + 1;
      return h("tr", { dataset: { series: s.code } }, h("th", { text: label(s.labels, s.code) }),
        h("td", { class: "num", text: members.length }), h("td", {}, roleBar(counts, order, roleLabels)));
    }))));
  }, { id: "series" });

  ctx.section(page, t("move"), async (body) => moveForm(body, ctx, flatten(nested.categories), moveResult), { id: "move" });
}

async function loadOr(page, ctx, load) {
  try {
    return await load();
  } catch (error) {
    ctx.showProblem(page, error);
    return null;
  }
}


async function showProducts(ctx, detail, node, members, roleLabels, button) {
  for (const b of document.querySelectorAll(".node[aria-pressed]")) b.removeAttribute("aria-pressed");
  button.setAttribute("aria-pressed", "true");
  clear(detail).append(h("h3", { text: label(node.labels, node.code) }));
  await ctx.run(detail, async () => {
    if (!members.length) {
      detail.append(h("p", { text: t("no_rows") }));
      return;
    }
    // (one request per product shown: a large category shows its first SHOWN products, and says so)
    const shown = members.slice(0, SHOWN);
    if (members.length > SHOWN) detail.append(h("p", { class: "hint", text: t("first_of").replace("{n}", SHOWN).replace("{total}", members.length) }));
    const completeness = await Promise.all(shown.map((p) =>
      api(`/v1/products/${encodeURIComponent(p.code)}/completeness`)));
    detail.append(h("table", { class: "products" },
      h("thead", {}, h("tr", {}, h("th", { text: t("product") }), h("th", { text: t("role") }),
        h("th", { text: t("lifecycle") }), h("th", { text: t("completeness") }))),
      h("tbody", {}, shown.map((p, i) => h("tr", { dataset: { product: p.code } },
        h("td", {}, h("span", { text: label(p.labels, p.code) }), h("br"), h("code", { text: p.code })),
        h("td", { text: roleLabels[p.role] ?? p.role }),
        h("td", {}, h("span", { class: `lifecycle lc-${p.lifecycle}`, text: p.lifecycle })),
        h("td", {}, h("span", { class: "stages" }, STAGES.filter((s) => completeness[i].stages[s]).map((s) => {
          const ratio = completeness[i].stages[s].ratio;
          return h("span", { class: `chip heat-${Math.floor(ratio * 10)}`, title: s, dataset: { stage: s, ratio } },
            `${s.slice(0, 4)} ${pct(ratio)}`);
        }))))))));
  });
}

// Move `code` under `parent` (null: a root) at `position`; a refusal (a cycle's 409, a 403…) is shown in `result`.
async function move(ctx, result, code, parent, position) {
  clear(result);
  const data = { parent };
  if (position !== null) data.position = position;
  try {
    await api(`/v1/categories/${encodeURIComponent(code)}/move`, { method: "POST", body: data });
  } catch (error) {
    if (!(error instanceof Problem) || error.status === 401) return ctx.showProblem(result, error);
    result.append(h("span", { class: "problem", role: "alert", dataset: { status: error.status, code: error.body.code ?? "" } },
      error.message));
    return;
  }
  justMoved = code;
  ctx.redraw();
}

// Drag a category onto another to move it there (appended to its children); the form does the same from the keyboard.
function draggable(ctx, result, node) {
  const type = "application/x-merchflow-category";
  return {
    draggable: "true",
    ondragstart: (e) => { e.dataTransfer.setData(type, node.code); e.dataTransfer.effectAllowed = "move"; },
    ondragover: (e) => {
      if (!e.dataTransfer.types.includes(type)) return;
      e.preventDefault();
      e.currentTarget.classList.add("drop-target");
    },
    ondragleave: (e) => e.currentTarget.classList.remove("drop-target"),
    ondrop: (e) => {
      e.preventDefault();
      e.currentTarget.classList.remove("drop-target");
      const code = e.dataTransfer.getData(type);
      if (code && code !== node.code) move(ctx, result, code, node.code, null);
    },
  };
}

function moveForm(body, ctx, rows, result) {
  const option = ({ node, depth }) => h("option", { value: node.code }, `${"  ".repeat(depth)}${label(node.labels, node.code)}`);
  const what = h("select", { id: "move-category", required: true }, rows.map(option));
  const parent = h("select", { id: "move-parent" }, h("option", { value: "" }, t("root")), rows.map(option));
  const position = h("input", { id: "move-position", type: "number", min: 0, inputmode: "numeric" });
  const form = h("form", { class: "inline-form" },
    h("label", {}, `${t("category")} `, what), h("label", {}, `${t("new_parent")} `, parent),
    h("label", {}, `${t("position")} `, position), h("button", { type: "submit", text: t("move") }), result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    move(ctx, result, what.value, parent.value || null, position.value === "" ? null : Number(position.value));
  });
  body.append(h("p", { class: "hint", text: t("move_hint") }), form);
}
