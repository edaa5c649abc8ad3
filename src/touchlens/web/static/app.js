// touchlens dashboard: fetches JSON from /v1 (session cookie) and draws it with Plotly.
"use strict";

const FILTERS = ["period", "start", "end", "channel", "segment"];
const $ = (sel) => document.querySelector(sel);
const esc = (value) => { const d = document.createElement("div"); d.textContent = String(value); return d.innerHTML; };
const $$ = (sel) => Array.from(document.querySelectorAll(sel));

function filters() {
  const q = new URLSearchParams(location.search);
  const out = {};
  for (const k of FILTERS) if (q.get(k)) out[k] = q.get(k);
  return out;
}

function segmentsApply() {
  const main = document.querySelector("main.page");
  return !main || main.dataset.segments !== "0";
}

function query(extra, forNav) {
  const q = new URLSearchParams({ ...filters(), ...(extra || {}) });
  if (!forNav && !segmentsApply()) q.delete("segment");  // this page ignores the segment
  for (const [k, v] of Array.from(q.entries())) if (v === "" || v === "null") q.delete(k);
  const s = q.toString();
  return s ? "?" + s : "";
}

async function getJSON(path, extra, meta) {
  // the dashboard accepts earlier results while new events are computed in (the server
  // marks such answers, and the page asks again: see staleSeen)
  const res = await fetch(path + query(extra), {
    credentials: "same-origin", headers: { "X-Touchlens-Accept-Stale": "1" } });
  const shown = res.headers.get("X-Touchlens-Stale");
  if (shown !== null && isBehind(Number(shown), Number(res.headers.get("X-Touchlens-Version")))) {
    if (meta) meta.stale = shown;
    staleSeen();
  }
  if (res.status === 401 || res.status === 403) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new Error("not logged in");
  }
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return res.json();
}

// -- filters ---------------------------------------------------------------------------
function initFilters() {
  const f = filters();
  const period = f.start || f.end ? "custom" : (f.period || "all");
  const choice = $("#f-period");
  if (![...choice.options].some((o) => o.value === period)) {
    // a period from a shared link or the report (2026-03, 2026Q1, last14d…): offered as it is,
    // so the select shows it and Apply keeps it
    choice.add(new Option(period, period), choice.querySelector("option[value=custom]"));
  }
  choice.value = period;
  $("#f-start").value = f.start || "";
  $("#f-end").value = f.end || "";
  toggleCustom();
  $("#f-period").addEventListener("change", toggleCustom);
  $("#f-apply").addEventListener("click", applyFilters);
  $$("a[data-nav]").forEach((a) => { a.href = a.getAttribute("href") + query(null, true); });
  getJSON("/v1/segments").then((res) => {
    const sel = $("#f-segment");
    for (const r of res.data) sel.add(new Option(`${r.segment} (${r.n_customers.toLocaleString()})`, r.segment));
    sel.add(new Option("prospect (no purchase)", res.prospect));
    sel.value = f.segment || "";
  }).catch(() => {});
  getJSON("/v1/channels").then((res) => {
    const sel = $("#f-channel");
    for (const ch of res.data) sel.add(new Option(ch, ch));
    sel.value = f.channel || "";
  }).catch(() => {});
}

function toggleCustom() {
  const custom = $("#f-period").value === "custom";
  $$(".filters .custom").forEach((el) => { el.style.display = custom ? "" : "none"; });
}

function applyFilters() {
  const q = new URLSearchParams(location.search);
  FILTERS.forEach((k) => q.delete(k));
  const period = $("#f-period").value;
  if (period === "custom") {
    if ($("#f-start").value) q.set("start", $("#f-start").value);
    if ($("#f-end").value) q.set("end", $("#f-end").value);
  } else if (period !== "all") {
    q.set("period", period);
  }
  if ($("#f-channel").value) q.set("channel", $("#f-channel").value);
  if ($("#f-segment").value) q.set("segment", $("#f-segment").value);
  history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
  $$("a[data-nav]").forEach((a) => { a.href = a.pathname + query(null, true); });
  render();
}

// -- panels ----------------------------------------------------------------------------
function fmt(value, kind, currency) {
  if (value === null || value === undefined) return "—";
  if (kind === "pct") return (100 * value).toFixed(1) + "%";
  if (kind === "score") return value.toFixed(1);
  if (kind === "money") return value.toLocaleString(undefined, { maximumFractionDigits: 0 }) + " " + (currency || "");
  return Math.round(value).toLocaleString();
}

const KPIS = [
  ["customers", "Customers", "int"], ["journeys", "Journeys", "int"],
  ["conversions", "Conversions", "int"], ["conversion_rate", "Conversion rate", "pct"],
  ["revenue", "Revenue", "money"], ["nps", "NPS", "score"], ["csat", "CSAT %", "score"],
  ["ces", "CES (1–7)", "score"],
];

async function renderKpis(el, quiet) {
  if (!quiet) el.textContent = "Loading…";
  try {
    const res = await getJSON("/v1/kpis");
    const cur = res.current, prev = res.previous;
    el.innerHTML = "";
    for (const [key, label, kind] of KPIS) {
      const card = document.createElement("div");
      card.className = "kpi";
      card.dataset.kpi = key;
      let delta = "";
      if (prev && cur[key] !== null && prev[key] !== null && prev[key] !== undefined) {
        const diff = cur[key] - prev[key];
        const shown = kind === "pct" ? (100 * diff).toFixed(1) + " pp"
          : kind === "score" ? diff.toFixed(1) : (prev[key] ? (100 * diff / Math.abs(prev[key])).toFixed(1) + "%" : "");
        if (shown) delta = `<span class="delta ${diff >= 0 ? "up" : "down"}">${diff >= 0 ? "▲" : "▼"} ${shown}</span>`;
      }
      const n = cur[key + "_n"];
      const small = n !== undefined && n < 30 ? ` <span class="small-n" title="fewer than 30 responses">n=${n}</span>` :
        (n !== undefined ? ` <span class="n">n=${n.toLocaleString()}</span>` : "");
      card.innerHTML = `<div class="label">${label}</div><div class="value">${fmt(cur[key], kind, cur.currency)}</div>${delta}${small}`;
      el.appendChild(card);
    }
    if (prev) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = "Changes against " + res.previous_scope.label + ".";
      el.appendChild(note);
    }
    $("#f-scope").textContent = res.scope.label;
  } catch (err) {
    el.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

function chartParams(el) {
  const params = JSON.parse(el.dataset.params || "{}");
  if (el.dataset.chart === "flows") {
    const tp = $("#c-touchpoint");
    if (tp && tp.value) params.touchpoint = tp.value;
    const dir = document.querySelector("input[name=c-direction]:checked");
    if (dir) params.direction = dir.value;
  }
  if (el.dataset.chart === "cx" && $("#c-by")) params.by = $("#c-by").value;
  if (el.dataset.chart === "kpi_watch") {
    if ($("#c-touchpoint") && $("#c-touchpoint").value) params.touchpoint = $("#c-touchpoint").value;
    if ($("#c-metric")) params.metric = $("#c-metric").value;
  }
  return { ...params, ...brandParams() };
}

async function renderChart(el, quiet) {
  const redraw = quiet && el.classList.contains("rendered");  // live update: draw in place
  if (!redraw) {
    el.classList.remove("rendered");
    el.innerHTML = '<p class="loading">Loading…</p>';
  }
  const meta = {};
  try {
    const fig = await getJSON("/v1/charts/" + el.dataset.chart, chartParams(el), meta);
    const config = { responsive: true, displaylogo: false };
    if (redraw) {
      await Plotly.react(el, fig.data, fig.layout, config);
    } else {
      el.innerHTML = "";
      await Plotly.newPlot(el, fig.data, fig.layout, config);
    }
    el.classList.add("rendered");
  } catch (err) {
    el.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
  el.classList.toggle("stale", meta.stale != null);
  el.title = meta.stale != null ? "Updating: new events arrived since this chart was drawn" : "";
}

// Some answer held earlier results (events streamed in while a large workspace computes):
// draw the page again, in place, every few seconds until every answer is current.
const STALE_RETRY_MS = 2000, STALE_TRIES = 150;
// target: the data version current when this drawing of the page first met an earlier
// answer; answers at least that new are enough (events streaming in meanwhile are not
// chased: live mode redraws for them)
const stale = { timer: null, tries: 0, target: null };
function isBehind(shown, current) {
  if (stale.target === null) stale.target = current;
  return shown < stale.target;
}
function staleSeen() {
  const note = $("#f-updating");
  if (note) note.hidden = false;  // some of what the page shows is from before new events
  if (stale.timer !== null || stale.tries >= STALE_TRIES) return;
  stale.tries += 1;
  stale.timer = setTimeout(async () => {
    stale.timer = null;
    await render(true, true);
  }, STALE_RETRY_MS);
}

const TABLE_COLUMNS = [
  ["touchpoint", "Touchpoint", "text"], ["channel", "Channel", "text"], ["stage", "Stage", "text"],
  ["reach", "Reach", "int"], ["touches", "Touches", "int"], ["ctr", "CTR", "pct"],
  ["engagement_rate", "Engagement", "pct"], ["journeys", "Journeys", "int"],
  ["conversion_rate", "Conv. rate", "pct"], ["cost", "Cost", "money"],
  ["influenced_revenue", "Influenced revenue", "money"], ["csat", "CSAT %", "score"],
  ["nps", "NPS", "score"], ["ces", "CES", "score"],
];
let tableRows = [];
let tableSort = { key: "reach", desc: true };

function drawTable() {
  const table = $("#scorecard");
  table.tHead.innerHTML = "<tr>" + TABLE_COLUMNS.map(([k, label]) => {
    const mark = tableSort.key === k ? (tableSort.desc ? " ▼" : " ▲") : "";
    return `<th data-key="${k}" tabindex="0" aria-sort="${tableSort.key === k ? (tableSort.desc ? "descending" : "ascending") : "none"}">${label}${mark}</th>`;
  }).join("") + "</tr>";
  const { key, desc } = tableSort;
  const rows = [...tableRows].sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    const c = typeof x === "string" ? x.localeCompare(y) : x - y;
    return desc ? -c : c;
  });
  table.tBodies[0].innerHTML = rows.map((r) => "<tr>" + TABLE_COLUMNS.map(([k, , kind]) => {
    let v = kind === "text" ? esc(r[k] ?? "—") : fmt(r[k], kind, "");
    if ((k === "csat" || k === "nps") && r[k + "_n"] > 0 && r[k + "_n"] < 30) v += "*";
    return `<td class="${kind}">${v}</td>`;
  }).join("") + "</tr>").join("");
  table.tHead.querySelectorAll("th").forEach((th) => {
    const sort = () => {
      tableSort = { key: th.dataset.key, desc: tableSort.key === th.dataset.key ? !tableSort.desc : true };
      drawTable();
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter") sort(); });
  });
}

async function renderTable() {
  try {
    tableRows = (await getJSON("/v1/scorecard")).data;
    drawTable();
  } catch (err) {
    $("#scorecard").tBodies[0].innerHTML = `<tr><td class="error">${esc(err.message)}</td></tr>`;
  }
}

function brandParams() {
  const input = $("#c-brands");
  return input && input.value.trim() ? { brands: input.value.trim() } : {};
}

function cell(value, kind) {
  if (value === null || value === undefined) return "—";
  if (kind === "num") return Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
  if (kind === "signed_pct") return (value > 0 ? "+" : "") + (100 * value).toFixed(1) + "%";
  if (kind === "date") return String(value).slice(0, 16).replace("T", " ");
  if (kind === "text") {
    const text = Array.isArray(value) ? value.slice(0, 2).join(" · ") : String(value);
    return esc(text.length > 240 ? text.slice(0, 237) + "…" : text);
  }
  return fmt(value, kind, "");
}

async function renderRecords(table) {
  const columns = JSON.parse(table.dataset.columns);
  table.tHead.innerHTML = "<tr>" + columns.map(([, label]) => `<th>${label}</th>`).join("") + "</tr>";
  try {
    const params = { ...JSON.parse(table.dataset.params || "{}"), ...brandParams() };
    const res = await getJSON(table.dataset.endpoint, params);
    const rows = res.data;
    table.tBodies[0].innerHTML = rows.length ? rows.map((r) => "<tr>" + columns.map(
      ([k, , kind]) => `<td class="${kind}">${cell(r[k], kind)}</td>`).join("") + "</tr>").join("")
      : `<tr><td colspan="${columns.length}" class="loading">${esc(res.note || "Nothing in this period.")}</td></tr>`;
  } catch (err) {
    table.tBodies[0].innerHTML = `<tr><td class="error" colspan="${columns.length}">${esc(err.message)}</td></tr>`;
  }
}

let layers = null;

async function render(quiet, followingStale) {
  document.body.dataset.ready = "";
  if (!followingStale) stale.target = null;  // a new drawing: up to the data of now
  if (layers === null && $$("[data-layer]").length) {
    try { layers = (await getJSON("/v1/layers")).data; } catch (e) { layers = {}; }
  }
  $$("[data-layer]").forEach((card) => {
    if (layers && !layers[card.dataset.layer]) {
      card.classList.add("unavailable");
      card.innerHTML = `<h2>${card.dataset.title}</h2><p><b>Not available yet.</b> This version has no ${card.dataset.layer} layer.</p>`;
    }
  });
  const kpis = $("#kpis");
  const jobs = $$(".chart[data-chart]").map((el) => renderChart(el, quiet));
  if (kpis) jobs.push(renderKpis(kpis, quiet));
  if ($("#scorecard")) jobs.push(renderTable());
  $$("table.records").forEach((t) => jobs.push(renderRecords(t)));
  if (!kpis) {
    jobs.push(getJSON("/v1/stats").then((r) => { $("#f-scope").textContent = r.scope.label; })
      .catch(() => {}));
  }
  await Promise.all(jobs);
  if (stale.timer === null) {  // everything drawn is current
    stale.tries = 0;
    const note = $("#f-updating");
    if (note) note.hidden = true;
  }
  document.body.dataset.ready = "1";
}

async function initControls() {
  const tp = $("#c-touchpoint");
  if (tp) {
    const res = await getJSON("/v1/touchpoints");
    const used = res.data.filter((r) => r.n_events > 0).map((r) => r.touchpoint).sort();
    for (const name of used) tp.add(new Option(name, name));
    const q = new URLSearchParams(location.search);
    tp.value = q.get("touchpoint") || (used.includes("product_page") ? "product_page" : used[0]);
    const redraw = () => $$(".chart[data-chart=flows], .chart[data-chart=kpi_watch]").forEach(renderChart);
    tp.addEventListener("change", redraw);
    $$("input[name=c-direction]").forEach((r) => r.addEventListener("change", redraw));
  }
  const by = $("#c-by");
  if (by) by.addEventListener("change", () => $$(".chart[data-chart=cx]").forEach(renderChart));
  const metric = $("#c-metric");
  if (metric) metric.addEventListener("change", () => $$(".chart[data-chart=kpi_watch]").forEach(renderChart));
  const brands = $("#c-brands");
  if (brands) {
    brands.value = new URLSearchParams(location.search).get("brands") || "";
    $("#c-brands-apply").addEventListener("click", () => {
      const q = new URLSearchParams(location.search);
      if (brands.value.trim()) q.set("brands", brands.value.trim()); else q.delete("brands");
      history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
      render();
    });
  }
}

// -- live mode: redraw when the server publishes a new data version -----------------------
const live = { timer: null, version: null, busy: false };

function liveNote(res) {
  const at = new Date(res.as_of).toLocaleTimeString();
  $("#f-live-note").textContent = `data as of ${at}` + (res.pending ? " · new events coming" : "");
}

async function liveTick() {
  if (live.busy || document.hidden) return;
  live.busy = true;
  try {
    const res = await getJSON("/v1/freshness");
    liveNote(res);
    if (live.version !== null && res.version !== live.version) await render(true);
    live.version = res.version;
  } catch (e) { /* the next tick tries again */ } finally { live.busy = false; }
}

async function setLive(on) {
  localStorage.setItem("touchlens-live", on ? "1" : "0");
  clearInterval(live.timer);
  live.timer = null;
  $("#f-live-note").textContent = "";
  if (!on) return;
  let res;
  try { res = await getJSON("/v1/freshness"); } catch (e) { return; }
  live.version = res.version;
  liveNote(res);
  // poll at half the server's lag (results change at most that often), 2–30 s
  const seconds = Math.min(30, Math.max(2, res.max_lag_s / 2));
  live.timer = setInterval(liveTick, seconds * 1000);
}

function initLive() {
  const box = $("#f-live");
  if (!box) return;
  box.checked = localStorage.getItem("touchlens-live") === "1";
  box.addEventListener("change", () => setLive(box.checked));
  if (box.checked) setLive(true);
}

document.addEventListener("DOMContentLoaded", async () => {
  initFilters();
  try { await initControls(); } catch (e) { /* controls are optional */ }
  await render();
  initLive();
});
