// The console's own words in Chinese and English; the catalog's words (categories, roles, stages, items) come
// from the catalog's own labels, in the chosen locale.

const WORDS = {
  "zh-CN": {
    structure: "商品结构", attributes: "属性应用表", assortment: "品类与ABC", warehouse: "仓库与客服",
    language: "语言", sign_in_title: "用 API 密钥登录", sign_in: "登录", sign_out: "退出", api_key: "API 密钥",
    sign_in_hint: "密钥只保存在当前浏览器标签页，且只发送给本服务器。", bad_key: "密钥无效或已吊销。",
    tree: "类目树", products: "商品", product: "商品", role: "角色", lifecycle: "生命周期", completeness: "完整度",
    series: "系列", role_mix: "角色构成", count: "商品数", pick_node: "点击类目查看其商品。", none: "无",
    move: "移动类目", category: "类目", new_parent: "新上级", root: "（顶级）", position: "位置", moved: "已移动。", move_hint: "把类目拖到另一个类目上即移到其下；或用下面的表单（仅管理员）。",
    not_allowed: "此密钥无权查看：", loading: "加载中…",
    stages_items: "环节 × 信息项", item: "信息项", reads: "读取", requires: "必需", edit: "编辑", save: "保存",
    cancel: "取消", saved: "已保存。", recompute: "完整度重算任务：", heatmap: "完整度热力图",
    heat_hint: "颜色表示该类目下该环节信息完整的商品占比；点击单元格查看待办。", worklist: "待办清单",
    missing: "缺少", edit_hint: "点击单元格切换：空 → 读取 → 必需 → 空。仅管理员可保存。",
    period: "期间", from: "起", to: "止", target: "目标构成", apply: "应用", abc: "ABC 帕累托曲线",
    abc_hint: "按 SKU 收入排名的累计收入占比；虚线为分类边界。", rank: "排名", class: "分类", revenue: "收入",
    share: "占比", cumulative: "累计占比", margin_pct: "毛利率", margin: "毛利", role_vs_target: "角色构成对比目标",
    actual: "实际", margin_by_category: "各类目毛利", stock: "库存（按仓库和库位）", sku: "SKU", show: "查询",
    warehouse_col: "仓库", location: "库位", zone: "区", on_hand: "在库", reserved: "预留", available: "可用",
    totals: "合计", low_stock: "低库存", reorder_point: "补货点", lookup: "客服查询", lookup_hint: "SKU、条码或名称",
    search: "查找", listed: "在售", not_listed: "未上架", promotions: "促销", selling_points: "卖点",
    no_rows: "没有记录。", all_skus: "留空显示全部", below: "可用量低于", first_of: "显示 {total} 个中的前 {n} 个。",
    low_hint: "留空：按各 SKU 的补货点；填数字：可用量低于该数的库位。",
  },
  en: {
    structure: "Structure", attributes: "Attribute application", assortment: "Assortment & ABC",
    warehouse: "Warehouse & service", language: "Language", sign_in_title: "Sign in with an API key",
    sign_in: "Sign in", sign_out: "Sign out", api_key: "API key",
    sign_in_hint: "The key is kept for this browser tab only, and sent to this server alone.",
    bad_key: "The key is unknown or revoked.", tree: "Tree", products: "Products", product: "Product", role: "Role",
    lifecycle: "Lifecycle", completeness: "Completeness", series: "Series", role_mix: "Role mix",
    count: "Products", pick_node: "Choose a category to see its products.", none: "none", move: "Move a category",
    category: "Category", new_parent: "New parent", root: "(root)", position: "Position", moved: "Moved.",
    move_hint: "Drag a category onto another to move it there, or use the form (admin only).",
    not_allowed: "This key may not see this: ", loading: "Loading…", stages_items: "Stages × information items",
    item: "Item", reads: "reads", requires: "requires", edit: "Edit", save: "Save", cancel: "Cancel",
    saved: "Saved.", recompute: "Completeness recompute job: ", heatmap: "Completeness heat map",
    heat_hint: "Colour: the share of the category's products complete for the stage; choose a cell for its worklist.",
    worklist: "Worklist", missing: "Missing",
    edit_hint: "Choose a cell to cycle it: empty → reads → requires → empty. Only an admin may save.",
    period: "Period", from: "From", to: "To", target: "Target mix", apply: "Apply", abc: "ABC Pareto curve",
    abc_hint: "Cumulative revenue share by SKU rank; dashed lines are the class boundaries.", rank: "Rank",
    class: "Class", revenue: "Revenue", share: "Share", cumulative: "Cumulative", margin_pct: "Margin %",
    margin: "Margin", role_vs_target: "Role mix against the target", actual: "Actual",
    margin_by_category: "Margin by category", stock: "Stock by warehouse and bin", sku: "SKU", show: "Show",
    warehouse_col: "Warehouse", location: "Bin", zone: "Zone", on_hand: "On hand", reserved: "Reserved",
    available: "Available", totals: "Totals", low_stock: "Low stock", reorder_point: "Reorder point",
    lookup: "Service lookup", lookup_hint: "SKU, barcode or name", search: "Look up", listed: "listed",
    not_listed: "not listed", promotions: "Promotions", selling_points: "Selling points", no_rows: "Nothing here.",
    all_skus: "empty: every SKU", below: "Available below", first_of: "The first {n} of {total}.",
    low_hint: "Empty: at or below each SKU's reorder point; a number: every bin whose available quantity is below it.",
  },
};

export const LOCALES = Object.keys(WORDS);
let current = LOCALES.includes(sessionStorage.getItem("merchflow.locale"))
  ? sessionStorage.getItem("merchflow.locale")
  : "zh-CN";

export function locale() {
  return current;
}

export function setLocale(value) {
  current = LOCALES.includes(value) ? value : "zh-CN";
  sessionStorage.setItem("merchflow.locale", current);
  document.documentElement.lang = current;
}

export function t(word) {
  return WORDS[current][word] ?? WORDS.en[word] ?? word;
}

// A catalog label map in the chosen locale (else Chinese, else English, else the code).
export function label(labels, code) {
  if (!labels) return code ?? "";
  return labels[current] ?? labels["zh-CN"] ?? labels.en ?? Object.values(labels)[0] ?? code ?? "";
}

export function translateStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
