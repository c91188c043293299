// Warehouse and service glance: stock by warehouse and bin for a SKU, the low-stock list, the service lookup box.

import { all, api, query } from "./api.js";
import { clear, h } from "./dom.js";
import { label, locale, t } from "./i18n.js";

export async function render(page, ctx) {
  page.append(h("h1", { text: t("warehouse") }));
  const grid = h("div", { class: "grid two" });
  page.append(grid);
  ctx.section(grid, t("stock"), (body) => stock(body, ctx), { id: "stock" });
  ctx.section(grid, t("lookup"), (body) => lookup(body, ctx), { id: "lookup" });
  ctx.section(page, t("low_stock"), (body) => low(body, ctx), { id: "low-stock" });
}

function levels(items, totals) {
  if (!items.length) return h("p", { text: t("no_rows") });
  return h("div", { class: "scroll" }, h("table", { class: "stock" },
    h("thead", {}, h("tr", {}, [t("sku"), t("warehouse_col"), t("location"), t("zone"), t("on_hand"), t("reserved"), t("available"),
      t("reorder_point")].map((c) => h("th", { text: c })))),
    h("tbody", {}, items.map((r) => h("tr", { dataset: { sku: r.sku, warehouse: r.warehouse, location: r.location } },
      h("td", {}, h("code", { text: r.sku })), h("td", { text: r.warehouse }), h("td", { text: r.location }),
      h("td", { text: r.zone ?? "" }), h("td", { class: "num", text: r.on_hand }), h("td", { class: "num", text: r.reserved }),
      h("td", { class: "num", dataset: { available: r.available }, text: r.available }),
      h("td", { class: "num", text: r.reorder_point ?? "—" })))),
    totals ? h("tfoot", {}, h("tr", {}, h("th", { colspan: 4, text: t("totals") }), h("td", { class: "num", text: totals.on_hand }),
      h("td", { class: "num", text: totals.reserved }), h("td", { class: "num", dataset: { total: "available" }, text: totals.available }),
      h("td"))) : null));
}

async function stock(body, ctx) {
  const sku = h("input", { id: "stock-sku", type: "search", placeholder: t("all_skus"), autocomplete: "off" });
  const out = h("div", { id: "stock-levels" });
  const show = async () => {
    clear(out);
    await ctx.run(out, async () => {
      const answer = await api(`/v1/stock${query({ sku: sku.value.trim(), limit: 500 })}`);
      out.append(levels(answer.items, answer.totals));
    });
  };
  const form = h("form", { class: "inline-form" }, h("label", {}, `${t("sku")} `, sku), h("button", { type: "submit", text: t("show") }));
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  body.append(form, out);
  await show();
}

// At or below each SKU's reorder point; or, with a threshold, every bin whose available quantity is below it.
async function low(body, ctx) {
  const below = h("input", { id: "low-below", type: "number", min: 1, inputmode: "numeric", value: 100 });
  const out = h("div", { id: "low-levels" });
  const show = async () => {
    clear(out);
    await ctx.run(out, async () => {
      const params = below.value === "" ? { low: "true" } : { below: below.value };
      out.append(levels(await all(`/v1/stock${query(params)}`), null));
    });
  };
  const form = h("form", { class: "inline-form" }, h("label", {}, `${t("below")} `, below), h("button", { type: "submit", text: t("show") }));
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  body.append(h("p", { class: "hint", text: t("low_hint") }), form, out);
  await show();
}

async function lookup(body, ctx) {
  const q = h("input", { id: "lookup-q", type: "search", placeholder: t("lookup_hint"), required: true, autocomplete: "off" });
  const out = h("div", { id: "lookup-results" });
  const form = h("form", { class: "inline-form" }, h("label", {}, `${t("lookup_hint")} `, q), h("button", { type: "submit", text: t("search") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(out);
    await ctx.run(out, async () => {
      const answer = await api(`/v1/service/lookup${query({ q: q.value.trim(), locale: locale() })}`);
      if (!answer.items.length) out.append(h("p", { text: t("no_rows") }));
      for (const item of answer.items) {
        out.append(h("article", { class: "hit", dataset: { product: item.code } },
          h("h3", {}, item.label, " ", h("code", { text: item.code })),
          h("p", {}, h("span", { class: `lifecycle lc-${item.lifecycle}`, text: item.lifecycle }), " ",
            item.listed ? t("listed") : t("not_listed"), item.role ? ` · ${item.role.label}` : ""),
          item.role?.says ? h("p", { class: "says", text: item.role.says }) : null,
          item.promotions?.length ? h("p", {}, `${t("promotions")}: `, item.promotions.map((p) =>
            `${label(p.labels, p.code)} ${p.sku} ${p.price.amount} ${p.price.currency}`).join("; ")) : null,
          item.selling_points?.length ? h("ul", {}, item.selling_points.map((s) => h("li", { text: s }))) : null));
      }
    });
  });
  body.append(form, out);
}
