// Assortment and ABC over a chosen period: the Pareto curve of cumulative revenue share by SKU rank with the
// class boundaries, the role mix against a target mix, and the margin by category.

import { all, api, query } from "./api.js";
import { h, svg } from "./dom.js";
import { label, t } from "./i18n.js";
import { roleOrder } from "./structure.js";

const percent = (value) => (value === null || value === undefined ? "—" : `${value}%`);
const DEFAULT_TARGET = "destination:30,routine:50,image:10,promotion:10";
const DAY = 86_400_000;
let period = null;

function iso(date) {
  return date.toISOString().slice(0, 10);
}

export async function render(page, ctx) {
  period ??= { from: iso(new Date(Date.now() - 89 * DAY)), to: iso(new Date()), target: DEFAULT_TARGET };
  const from = h("input", { id: "period-from", type: "date", value: period.from });
  const to = h("input", { id: "period-to", type: "date", value: period.to });
  const target = h("input", { id: "period-target", type: "text", value: period.target, size: 40 });
  const form = h("form", { class: "inline-form", id: "period" },
    h("label", {}, `${t("from")} `, from), h("label", {}, `${t("to")} `, to),
    h("label", {}, `${t("target")} `, target), h("button", { type: "submit", text: t("apply") }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    period = { from: from.value, to: to.value, target: target.value.trim() };
    ctx.redraw();
  });
  page.append(h("div", { class: "toolbar" }, h("h1", { text: t("assortment") })), form);
  const scope = { from: period.from, to: period.to };
  ctx.section(page, t("abc"), (body) => abc(body, scope), { id: "abc" });
  const grid = h("div", { class: "grid two" });
  page.append(grid);
  const report = api(`/v1/reports/assortment${query({ ...scope, target: period.target })}`);
  report.catch(() => {}); // (each section shows its own problem)
  const names = Promise.all([all("/v1/roles"), all("/v1/categories")]);
  names.catch(() => {});
  ctx.section(grid, t("role_vs_target"), async (body) => roleMix(body, await report, (await names)[0]), { id: "role-mix" });
  ctx.section(grid, t("margin_by_category"), async (body) => margins(body, await report, (await names)[1]), { id: "margins" });
}

async function abc(body, scope) {
  const report = await api(`/v1/reports/abc${query(scope)}`);
  if (!report.items.length) {
    body.append(h("p", { text: t("no_rows") }));
    return;
  }
  // The curve of one currency: the one with the most revenue (the catalog's main one).
  const byCurrency = {};
  for (const row of report.items) (byCurrency[row.currency] ??= []).push(row);
  const [currency, rows] = Object.entries(byCurrency).sort((a, b) => b[1].length - a[1].length)[0];
  const sizes = report.parameters.classes.split(",").map(Number);
  const W = 640, H = 300, L = 48, R = 16, T = 16, B = 40;
  const x = (rank) => L + (rank / rows.length) * (W - L - R);
  const y = (share) => T + (1 - share / 100) * (H - T - B);
  const chart = svg("svg", { class: "pareto", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `${t("abc")} (${currency})` });
  for (const tick of [0, 25, 50, 75, 100]) {
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(tick), y2: y(tick), class: "gridline" }),
      svg("text", { x: L - 6, y: y(tick) + 4, class: "axis", "text-anchor": "end", text: `${tick}%` }));
  }
  let boundary = 0;
  const letters = sizes.map((_, i) => String.fromCharCode(65 + i));
  sizes.slice(0, -1).forEach((size, i) => {
    boundary += size;
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(boundary), y2: y(boundary), class: "boundary", dataset: { boundary } }),
      svg("text", { x: W - R - 4, y: y(boundary) - 4, class: "axis", "text-anchor": "end", text: `${letters[i]} | ${letters[i + 1]} · ${boundary}%` }));
  });
  const points = [[x(0), y(0)], ...rows.map((r) => [x(r.rank), y(Number(r.cumulative_share))])];
  chart.append(svg("polyline", { points: points.map((p) => p.join(",")).join(" "), class: "curve" }));
  for (const r of rows) {
    chart.append(svg("circle", { cx: x(r.rank), cy: y(Number(r.cumulative_share)), r: 4, class: `class-${r.class}`, dataset: { sku: r.sku } },
      svg("title", { text: `#${r.rank} ${r.sku} · ${r.class} · ${r.cumulative_share}%` })));
  }
  chart.append(svg("text", { x: (L + W - R) / 2, y: H - 8, class: "axis", "text-anchor": "middle", text: `${t("rank")} (SKU)` }));
  const money = rows.some((r) => "margin" in r);
  body.append(h("p", { class: "hint", text: `${t("abc_hint")} ${report.parameters.from ?? ""} – ${report.parameters.to ?? ""} · ${currency}` }),
    chart,
    h("div", { class: "scroll" }, h("table", { class: "abc" },
      h("thead", {}, h("tr", {}, [t("rank"), t("sku"), t("product"), t("class"), `${t("revenue")} (${currency})`, t("share"),
        t("cumulative"), t("margin_pct"), money ? t("margin") : null].filter(Boolean).map((c) => h("th", { text: c })))),
      h("tbody", {}, rows.map((r) => h("tr", { dataset: { sku: r.sku } },
        h("td", { class: "num", text: r.rank }), h("td", {}, h("code", { text: r.sku })), h("td", { text: r.product }),
        h("td", { class: `class class-${r.class}`, dataset: { class: r.class }, text: r.class }),
        h("td", { class: "num", text: r.revenue }), h("td", { class: "num", text: `${r.share}%` }),
        h("td", { class: "num", text: `${r.cumulative_share}%` }), h("td", { class: "num", text: r.margin_pct ?? "—" }),
        money ? h("td", { class: "num", text: r.margin ?? "—" }) : null))))));
}

// Horizontal bars: for each row a bar of `value` percent, and a tick at `mark` percent when there is one.
function bars(rows, { value, mark, name, text }) {
  const W = 420, ROW = 26, L = 150;
  const chart = svg("svg", { class: "bars", viewBox: `0 0 ${W} ${rows.length * ROW + 4}`, role: "img" });
  const top = Math.max(100, ...rows.map((r) => Math.max(Number(r[value]) || 0, Number(r[mark]) || 0)));
  rows.forEach((r, i) => {
    const y = i * ROW + 4;
    const v = Number(r[value]) || 0;
    chart.append(svg("text", { x: L - 6, y: y + 14, class: "axis", "text-anchor": "end", text: name(r) }),
      svg("rect", { x: L, y, width: Math.max(0, (v / top) * (W - L - 60)), height: 16, class: "bar" }),
      svg("text", { x: L + Math.max(0, (v / top) * (W - L - 60)) + 4, y: y + 13, class: "axis", text: text(r) }));
    if (mark && r[mark] !== null && r[mark] !== undefined) {
      const mx = L + (Number(r[mark]) / top) * (W - L - 60);
      chart.append(svg("line", { x1: mx, x2: mx, y1: y - 2, y2: y + 18, class: "target" }));
    }
  });
  return chart;
}

function roleMix(body, report, roles) {
  const labels = Object.fromEntries(roles.map((r) => [r.code, label(r.labels, r.code)]));
  const order = roleOrder(roles);
  const rows = report.items.filter((r) => r.dimension === "role").sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  body.append(h("p", { class: "legend" }, svg("svg", { width: 12, height: 12, "aria-hidden": "true" }, svg("rect", { width: 12, height: 12, class: "bar" })),
    ` ${t("actual")} · `, svg("svg", { width: 12, height: 12, "aria-hidden": "true" }, svg("line", { x1: 6, x2: 6, y1: 0, y2: 12, class: "target" })), ` ${t("target")}`),
  bars(rows, { value: "revenue_share", mark: "target_share", name: (r) => labels[r.group] ?? r.group,
    text: (r) => `${percent(r.revenue_share)}${r.target_share === null ? "" : ` / ${percent(r.target_share)}`}` }),
  h("table", {}, h("thead", {}, h("tr", {}, [t("role"), t("count"), t("actual"), t("target"), "Δ"].map((c) => h("th", { text: c })))),
    h("tbody", {}, rows.map((r) => h("tr", { dataset: { role: r.group } }, h("td", { text: labels[r.group] ?? r.group }),
      h("td", { class: "num", text: r.products }), h("td", { class: "num", text: percent(r.revenue_share) }),
      h("td", { class: "num", text: percent(r.target_share) }),
      h("td", { class: "num", text: r.target_diff ?? "—" }))))));
}

function margins(body, report, categories) {
  const labels = Object.fromEntries(categories.map((c) => [c.code, label(c.labels, c.code)]));
  const rows = report.items.filter((r) => r.dimension === "category");
  const money = rows.some((r) => "margin" in r);
  body.append(bars(rows, { value: "margin_pct", name: (r) => labels[r.group] ?? r.group, text: (r) => percent(r.margin_pct) }),
    h("table", {}, h("thead", {}, h("tr", {}, [t("category"), t("revenue"), money ? t("margin") : null, t("margin_pct")]
      .filter(Boolean).map((c) => h("th", { text: c })))),
    h("tbody", {}, rows.map((r) => h("tr", { dataset: { category: r.group } }, h("td", { text: labels[r.group] ?? r.group }),
      h("td", { class: "num", text: `${r.revenue} ${r.currency}` }), money ? h("td", { class: "num", text: r.margin ?? "—" }) : null,
      h("td", { class: "num", text: r.margin_pct ?? "—" }))))));
}
