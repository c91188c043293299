// The attribute application table: stages × information items (reads / requires), editable by an admin; beside
// it the completeness heat map, categories × stages, whose cells open the worklist.

import { all, api, Problem, query } from "./api.js";
import { clear, h, pct } from "./dom.js";
import { label, t } from "./i18n.js";

const ROWS = 60;
const MARK = { none: "", reads: "○", requires: "●" };

export async function render(page, ctx) {
  page.append(h("h1", { text: t("attributes") }));
  let stages;
  let fields;
  try {
    ({ items: stages, fields } = await api("/v1/stages"));
  } catch (error) {
    ctx.showProblem(page, error);
    return;
  }
  const itemLabels = Object.fromEntries(fields.map((f) => [f.code, label(f.labels, f.code)]));
  ctx.section(page, t("stages_items"), (body) => table(body, ctx, stages, fields, itemLabels), { id: "needs" });
  ctx.section(page, t("heatmap"), (body) => heatmap(body, ctx, stages, itemLabels), { id: "heatmap" });
}

async function table(body, ctx, stages, fields, itemLabels) {
  const [needs, attributes] = await Promise.all([
    Promise.all(stages.map((s) => api(`/v1/stages/${s.code}/needs`))), all("/v1/attributes"),
  ]);
  for (const a of attributes) itemLabels[a.code] = label(a.labels, a.code);
  // What each stage reads, in order, and which of those it requires: the table being edited.
  const state = Object.fromEntries(needs.map((n) => [n.stage, {
    reads: n.needs.map((x) => x.item), requires: new Set(n.needs.filter((x) => x.required).map((x) => x.item)),
  }]));
  const dirty = new Set();
  const requirable = new Set([...fields.filter((f) => f.requirable).map((f) => f.code), ...attributes.map((a) => a.code)]);
  const items = [...fields.map((f) => f.code), ...attributes.map((a) => a.code)];
  const mode = (stage, item) => (state[stage].requires.has(item) ? "requires" : state[stage].reads.includes(item) ? "reads" : "none");
  let editing = false;

  const cell = (stage, item) => {
    const current = mode(stage.code, item);
    const button = h("button", {
      type: "button", class: `need need-${current}`, disabled: !editing,
      "aria-label": `${label(stage.labels, stage.code)} · ${itemLabels[item]}: ${t(current === "none" ? "none" : current)}`,
      dataset: { stage: stage.code, item, mode: current },
      onclick: () => {
        const s = state[stage.code];
        const now = mode(stage.code, item);
        if (now === "none") s.reads.push(item);
        else if (now === "reads" && requirable.has(item)) s.requires.add(item);
        else {
          s.requires.delete(item);
          s.reads = s.reads.filter((x) => x !== item);
        }
        dirty.add(stage.code);
        draw();
      },
    }, MARK[current]);
    return h("td", {}, button);
  };
  const grid = h("div", { class: "scroll" });
  const result = h("p", { id: "needs-result", role: "status" });
  const editButton = h("button", { type: "button", id: "needs-edit", text: t("edit"), onclick: () => { editing = true; draw(); } });
  const saveButton = h("button", { type: "button", id: "needs-save", text: t("save"), onclick: save });
  const draw = () => {
    clear(grid).append(h("table", { class: "needs" },
      h("thead", {}, h("tr", {}, h("th", { text: t("item") }), stages.map((s) => h("th", { scope: "col", text: label(s.labels, s.code) })))),
      h("tbody", {}, items.map((item) => h("tr", { dataset: { item } },
        h("th", { scope: "row" }, itemLabels[item] ?? item, " ", h("code", { text: item })),
        stages.map((s) => cell(s, item)))))));
    editButton.hidden = editing;
    saveButton.hidden = !editing;
  };
  async function save() {
    clear(result);
    const jobs = [];
    try {
      for (const stage of stages.map((s) => s.code).filter((c) => dirty.has(c))) {
        const s = state[stage];
        const answer = await api(`/v1/stages/${stage}/needs`, {
          method: "PUT", body: { reads: s.reads, requires: s.reads.filter((x) => s.requires.has(x)) },
        });
        dirty.delete(stage);
        if (answer.recompute) jobs.push(answer.recompute.href);
      }
    } catch (error) {
      if (!(error instanceof Problem) || error.status === 401) throw error;
      result.append(h("span", { class: "problem", role: "alert", dataset: { status: error.status } },
        (error.status === 403 ? t("not_allowed") : "") + error.message));
      return;
    }
    editing = false;
    const fresh = h("div", { class: "section-body" });
    body.replaceWith(fresh);
    await ctx.run(fresh, (b) => table(b, ctx, stages, fields, itemLabels));
    fresh.querySelector("#needs-result").append(t("saved"), jobs.length ? ` ${t("recompute")}${jobs.join(", ")}` : "");
  }
  body.append(h("p", { class: "hint", text: t("edit_hint") }),
    h("p", { class: "legend" }, `○ ${t("reads")} · ● ${t("requires")}`), h("div", { class: "actions" }, editButton, saveButton), result, grid);
  draw();
}

function flatten(nodes, depth = 0, out = []) {
  for (const node of nodes) {
    out.push({ node, depth });
    flatten(node.children, depth + 1, out);
  }
  return out;
}

async function heatmap(body, ctx, stages, itemLabels) {
  const trees = await all("/v1/category-trees");
  const tree = trees.find((tr) => tr.code === "merch") ?? trees[0];
  if (!tree) return;
  const nested = await api(`/v1/category-trees/${encodeURIComponent(tree.code)}/tree`);
  // (one request per row: a large tree shows its top two levels, at most ROWS rows, and says so)
  const every = flatten(nested.categories);
  const rows = (every.length > ROWS ? every.filter((r) => r.depth <= 1) : every).slice(0, ROWS);
  if (rows.length < every.length) body.append(h("p", { class: "hint", id: "heat-note", text: t("first_of").replace("{n}", rows.length).replace("{total}", every.length) }));
  const counts = await Promise.all(rows.map(({ node }) => api(`/v1/completeness${query({ category: node.code, limit: 1 })}`)));
  const worklist = h("div", { id: "worklist" });
  body.append(h("p", { class: "hint", text: t("heat_hint") }), h("div", { class: "scroll" }, h("table", { class: "heat" },
    h("thead", {}, h("tr", {}, h("th", { text: label(tree.labels, tree.code) }),
      stages.map((s) => h("th", { scope: "col", text: label(s.labels, s.code) })))),
    h("tbody", {}, rows.map(({ node, depth }, i) => h("tr", { dataset: { category: node.code } },
      h("th", { scope: "row", class: `depth-${depth}` }, label(node.labels, node.code), " ", h("span", { class: "count", text: node.subtree_products })),
      stages.map((s) => {
        const n = node.subtree_products;
        const share = n ? (n - (counts[i].incomplete_by_stage[s.code] ?? 0)) / n : null;
        return h("td", {}, h("button", {
          type: "button", class: `heat-cell heat-${share === null ? "none" : Math.floor(share * 10)}`, disabled: share === null,
          dataset: { stage: s.code, category: node.code, share: share === null ? "" : share.toFixed(4) },
          "aria-label": `${label(node.labels, node.code)} · ${label(s.labels, s.code)}: ${pct(share)}`,
          onclick: () => showWorklist(ctx, worklist, node, s, itemLabels),
        }, pct(share)));
      })))))), worklist);
}

async function showWorklist(ctx, where, node, stage, itemLabels) {
  clear(where).append(h("h3", { text: `${t("worklist")}: ${label(node.labels, node.code)} · ${label(stage.labels, stage.code)}` }));
  await ctx.run(where, async () => {
    const list = await all(`/v1/completeness${query({ category: node.code, stage: stage.code })}`);
    if (!list.length) {
      where.append(h("p", { text: t("no_rows") }));
      return;
    }
    where.append(h("table", {}, h("thead", {}, h("tr", {}, h("th", { text: t("product") }), h("th", { text: t("lifecycle") }),
      h("th", { text: t("completeness") }), h("th", { text: t("missing") }))),
    h("tbody", {}, list.map((p) => {
      const entry = p.stages[stage.code];
      return h("tr", { dataset: { product: p.product } }, h("td", {}, label(p.labels, p.product), " ", h("code", { text: p.product })),
        h("td", { text: p.lifecycle }), h("td", { class: "num", text: pct(entry?.ratio) }),
        h("td", { text: (entry?.missing ?? []).map((m) => itemLabels[m.item] ?? m.item).join(", ") }));
    }))));
  });
}
