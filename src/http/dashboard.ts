/**
 * The dashboard page: one HTML document with its CSS and script inline, no build step, no CDN, no
 * external fonts, so `bun build --compile` carries it inside the binary.
 *
 * The script polls the JSON API every 5 s. Everything that comes from miners (worker names) is put
 * into the page with textContent, never as HTML. When the API answers 401 the page asks for the token
 * and keeps it in localStorage. The server sends a Content-Security-Policy that allows exactly this
 * inline script and style (by hash), so the two are exported separately.
 *
 * Stable hooks for tests: ids on every figure, data-testid on rows (worker-row, block-row).
 */

export const DASHBOARD_CSS = String.raw`
:root {
  --bg: #f4f6f9; --card: #ffffff; --text: #17202b; --muted: #5d6b7c; --line: #e3e8ef;
  --accent: #2563eb; --accent-soft: rgba(37, 99, 235, 0.14); --good: #15803d; --good-soft: #dcfce7;
  --warn: #b45309; --warn-soft: #fef3c7; --bad: #b91c1c; --bad-soft: #fee2e2; --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f141b; --card: #171e28; --text: #e6ebf2; --muted: #93a1b3; --line: #263142;
    --accent: #60a5fa; --accent-soft: rgba(96, 165, 250, 0.16); --good: #4ade80; --good-soft: rgba(74, 222, 128, 0.14);
    --warn: #fbbf24; --warn-soft: rgba(251, 191, 36, 0.14); --bad: #f87171; --bad-soft: rgba(248, 113, 113, 0.15);
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body { background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.top { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 8px 16px; padding: 12px 24px;
  background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 18px; letter-spacing: -0.01em; }
.logo { width: 26px; height: 26px; border-radius: 7px; background: var(--accent); display: inline-block; position: relative; }
.logo::after { content: ""; position: absolute; inset: 7px; border: 2px solid var(--card); border-radius: 3px; transform: rotate(45deg); }
.badge { font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px; background: var(--accent-soft); color: var(--accent); }
.status { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; color: var(--muted); }
.status b { color: var(--text); font-variant-numeric: tabular-nums; }
.pill { display: inline-flex; align-items: center; gap: 6px; font-weight: 600; padding: 3px 10px; border-radius: 999px; background: var(--line); color: var(--muted); }
.pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.pill.ok { background: var(--good-soft); color: var(--good); }
.pill.bad { background: var(--bad-soft); color: var(--bad); }
main { max-width: 1360px; margin: 0 auto; padding: 20px 24px 32px; display: grid; gap: 16px; }
.hidden { display: none !important; }
.banner { padding: 10px 14px; border-radius: 10px; background: var(--bad-soft); color: var(--bad); font-weight: 600; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px; min-width: 0; }
.card h2 { margin: 0; font-size: 15px; font-weight: 650; }
.card-head { display: flex; align-items: center; justify-content: space-between; gap: 12px; margin-bottom: 10px; flex-wrap: wrap; }
.count { color: var(--muted); font-weight: 500; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 12px 16px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; font-weight: 600; }
.tile .value { font-size: 24px; font-weight: 700; margin-top: 2px; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .sub { color: var(--muted); font-size: 12.5px; font-variant-numeric: tabular-nums; }
.row2 { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 16px; }
@media (max-width: 980px) { .row2 { grid-template-columns: minmax(0, 1fr); } }
.seg { display: inline-flex; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.seg button { border: 0; background: transparent; color: var(--muted); padding: 4px 10px; font: inherit; font-size: 12.5px; cursor: pointer; }
.seg button + button { border-left: 1px solid var(--line); }
.seg button.on { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
.row2 > .card { display: flex; flex-direction: column; }
/* The chart takes whatever height its card has (the row is as tall as the taller card). */
#chart { position: relative; width: 100%; flex: 1 1 auto; min-height: 240px; }
#chart svg { position: absolute; inset: 0; display: block; width: 100%; height: 100%; }
#chart .grid { stroke: var(--line); stroke-width: 1; }
#chart .axis { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
#chart .line { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
#chart .area { fill: var(--accent-soft); stroke: none; }
#chart .cursor { stroke: var(--muted); stroke-dasharray: 3 3; }
#chart .dot { fill: var(--accent); stroke: var(--card); stroke-width: 2; }
#chart .empty-note { fill: var(--muted); font-size: 13px; }
.tip { position: absolute; top: 6px; pointer-events: none; background: var(--text); color: var(--card); padding: 4px 8px; border-radius: 6px; font-size: 12px; white-space: nowrap; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0 -18px; padding: 0 18px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 8px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
th.num, td.num { text-align: right; }
td.name { font-weight: 600; max-width: 320px; overflow: hidden; text-overflow: ellipsis; }
.mono { font-family: var(--mono); font-size: 12.5px; }
.dot-state { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 8px; background: var(--line); vertical-align: 1px; }
.dot-state.on { background: var(--good); }
tr.silent td { background: var(--warn-soft); }
tr.silent .dot-state { background: var(--warn); }
.tag { display: inline-block; margin-left: 8px; font-size: 11px; font-weight: 700; padding: 1px 7px; border-radius: 999px; text-transform: uppercase; letter-spacing: 0.03em; }
.tag.silent { background: var(--warn); color: var(--card); }
.status-accepted { background: var(--good-soft); color: var(--good); }
.status-pending { background: var(--warn-soft); color: var(--warn); }
.status-rejected { background: var(--bad-soft); color: var(--bad); }
td .tag { margin-left: 0; }
td .tag.silent { margin-left: 8px; }
.high { color: var(--bad); font-weight: 600; }
.empty { color: var(--muted); margin: 8px 0 2px; }
dl.connect { margin: 0; display: grid; gap: 10px; }
dl.connect dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; font-weight: 600; }
dl.connect dd { margin: 2px 0 0; display: flex; gap: 8px; align-items: flex-start; }
dl.connect dd .mono { word-break: break-all; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 6px 8px; flex: 1; min-width: 0; }
button.copy { border: 1px solid var(--line); background: var(--card); color: var(--text); border-radius: 8px; padding: 6px 10px; font: inherit; font-size: 12.5px; cursor: pointer; }
button.copy:hover { border-color: var(--accent); color: var(--accent); }
.hint { color: var(--muted); font-size: 12.5px; margin: 12px 0 0; }
#token-form { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; }
#token-form label { font-weight: 600; }
#token-form input { flex: 1; min-width: 200px; padding: 7px 10px; border-radius: 8px; border: 1px solid var(--line); background: var(--bg); color: var(--text); font: inherit; }
#token-form button { padding: 7px 14px; border-radius: 8px; border: 0; background: var(--accent); color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
footer { max-width: 1360px; margin: 0 auto; padding: 0 24px 24px; color: var(--muted); font-size: 12px; display: flex; gap: 12px; flex-wrap: wrap; }
footer a { color: var(--accent); }
footer button { border: 0; background: none; color: var(--accent); font: inherit; cursor: pointer; padding: 0; }
@media (max-width: 600px) {
  .top { padding: 10px 14px; position: static; }
  main { padding: 12px 12px 24px; gap: 12px; }
  .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
  .tile { padding: 10px 12px; }
  .tile .value { font-size: 19px; }
  .card { padding: 12px 14px; }
  .table-wrap { margin: 0 -14px; padding: 0 14px; }
  #chart { min-height: 200px; }
  footer { padding: 0 12px 16px; }
}
`;

export const DASHBOARD_JS = String.raw`
(function () {
  "use strict";
  var TOKEN_KEY = "sv2pool.token";
  var REFRESH_MS = 5000;
  var SILENT_MS = 10 * 60 * 1000;
  /** Rows in the workers table: a farm has thousands of workers; the busiest are the ones to read. */
  var WORKERS_SHOWN = 500;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var minutes = 60;
  var busy = false;
  var lastSeries = null;

  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) el.textContent = text; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function getToken() { try { return localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }
  function setToken(t) { try { if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ } }

  function Unauthorized() { this.name = "Unauthorized"; }

  async function api(path) {
    var headers = {};
    var token = getToken();
    if (token) headers["Authorization"] = "Bearer " + token;
    var res = await fetch(path, { headers: headers, cache: "no-store" });
    if (res.status === 401) throw new Unauthorized();
    if (!res.ok) throw new Error(path + " answered HTTP " + res.status);
    return res.json();
  }

  // ---- formatting ----------------------------------------------------------------------------
  var RATE_UNITS = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s", "ZH/s"];
  function rateUnit(h) {
    var i = 0;
    while (h >= 1000 && i < RATE_UNITS.length - 1) { h /= 1000; i++; }
    return i;
  }
  function fmtRate(h) {
    if (!(h > 0)) return "0 H/s";
    var i = rateUnit(h);
    var v = h / Math.pow(1000, i);
    return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + " " + RATE_UNITS[i];
  }
  function fmtInt(n) { return Number(n || 0).toLocaleString("en-US"); }
  function fmtPct(x) { return (x * 100).toFixed(x === 0 || x >= 0.1 ? 1 : 2) + "%"; }
  function fmtDiff(d) {
    if (!(d > 0)) return "0";
    if (d >= 1e12) return (d / 1e12).toFixed(2) + "T";
    if (d >= 1e9) return (d / 1e9).toFixed(2) + "G";
    if (d >= 1e6) return (d / 1e6).toFixed(2) + "M";
    if (d >= 1e3) return (d / 1e3).toFixed(2) + "k";
    if (d >= 1) return d.toFixed(2);
    return d.toExponential(2);
  }
  function fmtAgo(ms, now) {
    if (ms === null || ms === undefined) return "never";
    var s = Math.max(0, Math.round((now - ms) / 1000));
    if (s < 5) return "just now";
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago";
    return Math.floor(s / 86400) + " d ago";
  }
  function fmtDuration(sec) {
    var d = Math.floor(sec / 86400), h = Math.floor((sec % 86400) / 3600), m = Math.floor((sec % 3600) / 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    if (m > 0) return m + "m " + (sec % 60) + "s";
    return sec + "s";
  }
  function pad2(n) { return n < 10 ? "0" + n : String(n); }
  function fmtClock(ms) { var d = new Date(ms); return pad2(d.getHours()) + ":" + pad2(d.getMinutes()); }
  function fmtStamp(ms) {
    var d = new Date(ms);
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " + pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
  }
  function shortHash(h) { return h.length > 20 ? h.slice(0, 10) + "…" + h.slice(-8) : h; }

  // ---- pool, node, connection info ------------------------------------------------------------
  function renderPool(p) {
    setText("network", p.network);
    var state = $("node-state");
    state.textContent = p.node.ok ? "node ok" : "node " + p.node.state;
    state.className = "pill " + (p.node.ok ? "ok" : "bad");
    setText("tip-height", p.tipHeight === null ? "–" : fmtInt(p.tipHeight));
    setText("pool-hashrate", fmtRate(p.hashrate));
    setText("pool-hashrate-1m", "1 min: " + fmtRate(p.hashrate1m));
    setText("miners", fmtInt(p.miners));
    setText("channels", fmtInt(p.channels) + " channels");
    setText("workers-online", fmtInt(p.workersOnline));
    setText("workers-known", "of " + fmtInt(p.workers) + " known");
    setText("shares-accepted", fmtInt(p.shares.accepted));
    var rr = p.shares.total === 0 ? 0 : p.shares.rejected / p.shares.total;
    setText("shares-rejected", fmtInt(p.shares.rejected) + " rejected (" + fmtPct(rr) + ")");
    setText("blocks-found", fmtInt(p.blocks.found));
    setText("blocks-detail", p.blocks.accepted + " accepted · " + p.blocks.pending + " pending · " + p.blocks.rejected + " rejected");
    setText("uptime", fmtDuration(p.uptimeSec));
    setText("version", "sv2pool " + p.version);
    setText("authority-key", p.authorityPublicKey || "SV2 is not enabled");
    setText("sv2-listen", p.sv2Listen || "not enabled");
    setText("sv1-listen", p.sv1Listen || "not enabled");
    setText("http-listen", p.httpListen || location.host);
    var age = p.node.templateAgeSec;
    setText("template-info", p.node.templateHeight === null ? "no template yet" :
      "mining height " + fmtInt(p.node.templateHeight) + (age === null ? "" : ", template " + Math.round(age) + " s old"));
  }

  // ---- workers ---------------------------------------------------------------------------------
  function renderWorkers(data) {
    var body = $("workers-body");
    var rows = document.createDocumentFragment();
    var now = data.nowMs;
    var silent = 0;
    data.workers.forEach(function (w) {
      var isSilent = w.lastSeenMs === null || now - w.lastSeenMs > SILENT_MS;
      if (isSilent) silent++;
      var tr = el("tr", isSilent ? "silent" : "");
      tr.setAttribute("data-testid", "worker-row");
      tr.setAttribute("data-worker", w.name);
      var name = el("td", "name");
      name.title = w.name;
      name.appendChild(el("span", "dot-state" + (w.online ? " on" : "")));
      name.appendChild(document.createTextNode(w.name));
      if (isSilent) name.appendChild(el("span", "tag silent", "silent"));
      tr.appendChild(name);
      tr.appendChild(el("td", "num", fmtRate(w.hashrate)));
      tr.appendChild(el("td", "num", fmtInt(w.accepted)));
      tr.appendChild(el("td", "num", fmtInt(w.rejected)));
      tr.appendChild(el("td", "num" + (w.rejectRate > 0.05 ? " high" : ""), fmtPct(w.rejectRate)));
      tr.appendChild(el("td", "num", fmtDiff(w.bestShareDifficulty)));
      tr.appendChild(el("td", "num", fmtInt(w.blocksFound)));
      var seen = el("td", "num", fmtAgo(w.lastSeenMs, now));
      if (w.lastSeenMs !== null) seen.title = fmtStamp(w.lastSeenMs);
      tr.appendChild(seen);
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    // The table holds the busiest WORKERS_SHOWN; the counts cover every worker.
    var total = typeof data.total === "number" ? data.total : data.workers.length;
    if (typeof data.silent === "number") silent = data.silent;
    var shown = total > data.workers.length ? fmtInt(data.workers.length) + " busiest of " + fmtInt(total) : fmtInt(total);
    setText("workers-count", shown + (silent > 0 ? " · " + fmtInt(silent) + " silent" : ""));
    $("workers-empty").classList.toggle("hidden", data.workers.length > 0);
  }

  // ---- blocks ----------------------------------------------------------------------------------
  function renderBlocks(data, now) {
    var body = $("blocks-body");
    var rows = document.createDocumentFragment();
    data.blocks.forEach(function (b) {
      var tr = el("tr");
      tr.setAttribute("data-testid", "block-row");
      tr.setAttribute("data-hash", b.hash);
      tr.appendChild(el("td", "num", fmtInt(b.height)));
      var hash = el("td", "mono", shortHash(b.hash));
      hash.title = b.hash;
      tr.appendChild(hash);
      var worker = el("td", "name", b.worker);
      worker.title = b.worker;
      tr.appendChild(worker);
      var st = el("td");
      st.appendChild(el("span", "tag status-" + b.status, b.status));
      tr.appendChild(st);
      var answer = b.nodeAnswer === null ? (b.lastError ? "no answer: " + b.lastError : "–") : b.nodeAnswer;
      var ans = el("td", "mono", answer);
      ans.title = answer + " (" + b.attempts + " attempt" + (b.attempts === 1 ? "" : "s") + ")";
      tr.appendChild(ans);
      var found = el("td", "num", fmtAgo(b.foundAtMs, now));
      found.title = fmtStamp(b.foundAtMs);
      tr.appendChild(found);
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    setText("blocks-count", String(data.blocks.length));
    $("blocks-empty").classList.toggle("hidden", data.blocks.length > 0);
  }

  // ---- hashrate chart --------------------------------------------------------------------------
  function niceStep(max, ticks) {
    var raw = max / ticks;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var n = raw / mag;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
  }

  function renderChart(series) {
    lastSeries = series;
    var box = $("chart");
    var root = $("hashrate-svg");
    var W = Math.max(280, box.clientWidth), H = Math.max(160, box.clientHeight);
    var L = 64, R = 12, T = 12, B = 26;
    root.setAttribute("viewBox", "0 0 " + W + " " + H);
    var parts = document.createDocumentFragment();
    var pts = series.points;
    var max = 0;
    pts.forEach(function (p) { if (p.hashrate > max) max = p.hashrate; });
    var unit = rateUnit(max > 0 ? max : 1);
    var scale = Math.pow(1000, unit);
    var step = max > 0 ? niceStep(max / scale, 4) : 1;
    var top = max > 0 ? Math.ceil(max / scale / step) * step : 4;
    if (max === 0) step = 1;
    var t0 = pts.length > 0 ? pts[0].t : series.nowMs - series.minutes * 60000;
    var t1 = Math.max(series.nowMs, t0 + 1);
    function x(t) { return L + ((t - t0) / (t1 - t0)) * (W - L - R); }
    function y(v) { return T + (1 - v / scale / top) * (H - T - B); }
    for (var v = 0; v <= top + 1e-9; v += step) {
      var yy = y(v * scale);
      parts.appendChild(svg("line", { x1: L, x2: W - R, y1: yy, y2: yy, "class": "grid" }));
      var label = svg("text", { x: L - 8, y: yy + 4, "text-anchor": "end", "class": "axis" });
      label.textContent = (Math.round(v * 1000) / 1000) + " " + RATE_UNITS[unit];
      parts.appendChild(label);
    }
    var span = t1 - t0;
    // As many time labels as fit (about 60 px each), at most 7.
    var maxTicks = Math.max(2, Math.min(7, Math.floor((W - L - R) / 60)));
    var tickMs = [60e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3].find(function (s) { return span / s <= maxTicks; }) || 86400e3;
    for (var t = Math.ceil(t0 / tickMs) * tickMs; t <= t1; t += tickMs) {
      var xt = x(t);
      // Labels near the right edge end there instead of being cut off.
      var xl = svg("text", { x: Math.min(xt, W - R), y: H - 8, "text-anchor": xt > W - R - 18 ? "end" : "middle", "class": "axis" });
      xl.textContent = fmtClock(t);
      parts.appendChild(xl);
    }
    if (pts.length > 0) {
      // Each point is a slot's average, drawn at the slot's middle (the current slot at "now").
      var half = series.stepSec * 500;
      var coords = pts.map(function (p) { return [x(Math.min(p.t + half, series.nowMs)), y(p.hashrate)]; });
      var d = coords.map(function (c, i) { return (i === 0 ? "M" : "L") + c[0].toFixed(1) + " " + c[1].toFixed(1); }).join(" ");
      var base = y(0).toFixed(1);
      parts.appendChild(svg("path", { d: d + " L" + coords[coords.length - 1][0].toFixed(1) + " " + base + " L" + coords[0][0].toFixed(1) + " " + base + " Z", "class": "area" }));
      parts.appendChild(svg("path", { d: d, "class": "line", id: "hashrate-line", "data-points": pts.length }));
      var cursor = svg("line", { x1: 0, x2: 0, y1: T, y2: H - B, "class": "cursor", visibility: "hidden" });
      var dot = svg("circle", { cx: 0, cy: 0, r: 4, "class": "dot", visibility: "hidden" });
      parts.appendChild(cursor);
      parts.appendChild(dot);
      root.onpointermove = function (ev) {
        var rect = root.getBoundingClientRect();
        var px = ((ev.clientX - rect.left) / rect.width) * W;
        var best = 0;
        for (var i = 1; i < coords.length; i++) if (Math.abs(coords[i][0] - px) < Math.abs(coords[best][0] - px)) best = i;
        var c = coords[best], p = pts[best];
        cursor.setAttribute("x1", c[0]); cursor.setAttribute("x2", c[0]); cursor.setAttribute("visibility", "visible");
        dot.setAttribute("cx", c[0]); dot.setAttribute("cy", c[1]); dot.setAttribute("visibility", "visible");
        var tip = $("chart-tip");
        tip.textContent = fmtClock(p.t) + "  " + fmtRate(p.hashrate) + "  ·  " + p.accepted + " shares";
        tip.classList.remove("hidden");
        var left = (c[0] / W) * rect.width;
        tip.style.left = Math.min(Math.max(0, left - tip.offsetWidth / 2), rect.width - tip.offsetWidth) + "px";
      };
      root.onpointerleave = function () {
        cursor.setAttribute("visibility", "hidden");
        dot.setAttribute("visibility", "hidden");
        $("chart-tip").classList.add("hidden");
      };
    }
    if (max === 0) {
      var note = svg("text", { x: (L + W - R) / 2, y: (T + H - B) / 2, "text-anchor": "middle", "class": "empty-note" });
      note.textContent = "No accepted shares in this period";
      parts.appendChild(note);
    }
    root.replaceChildren(parts);
  }

  // ---- refresh loop ----------------------------------------------------------------------------
  function showError(text) {
    var b = $("error-banner");
    b.textContent = text || "";
    b.classList.toggle("hidden", !text);
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      var r = await Promise.all([api("/api/pool"), api("/api/workers?limit=" + WORKERS_SHOWN), api("/api/blocks?limit=50"), api("/api/hashrate?minutes=" + minutes)]);
      renderPool(r[0]);
      renderWorkers(r[1]);
      renderBlocks(r[2], r[0].nowMs);
      renderChart(r[3]);
      $("token-form").classList.add("hidden");
      $("token-forget").classList.toggle("hidden", !getToken());
      showError(r[0].store.writeError ? "The pool cannot write its ledger (" + r[0].store.writeError + "); blocks and counters are kept in memory until the disk accepts writes." : "");
      setText("updated", "updated " + fmtStamp(Date.now()).slice(11));
      document.body.setAttribute("data-loaded", "1");
    } catch (e) {
      if (e instanceof Unauthorized) {
        $("token-form").classList.remove("hidden");
        showError(getToken() ? "The API refused the saved token." : "This pool's API needs a token.");
      } else {
        showError("Cannot reach the pool: " + (e && e.message ? e.message : String(e)));
      }
    } finally {
      busy = false;
    }
  }

  $("token-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    setToken($("token-input").value.trim());
    $("token-input").value = "";
    refresh();
  });
  $("token-forget").addEventListener("click", function () { setToken(""); refresh(); });
  Array.prototype.forEach.call(document.querySelectorAll("#range button"), function (b) {
    b.addEventListener("click", function () {
      minutes = Number(b.getAttribute("data-minutes"));
      Array.prototype.forEach.call(document.querySelectorAll("#range button"), function (o) { o.classList.toggle("on", o === b); });
      refresh();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
    b.addEventListener("click", function () {
      var text = $(b.getAttribute("data-copy")).textContent || "";
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1200); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () {});
      else {
        var range = document.createRange();
        range.selectNodeContents($(b.getAttribute("data-copy")));
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
    });
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (lastSeries) renderChart(lastSeries); }, 100);
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>sv2pool</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true"></span>sv2pool <span id="network" class="badge" data-testid="network">…</span></div>
  <div class="status">
    <span id="node-state" class="pill" data-testid="node-state">node …</span>
    <span>tip <b id="tip-height" data-testid="tip-height">–</b></span>
    <span id="template-info"></span>
    <span id="updated"></span>
  </div>
</header>
<main>
  <div id="error-banner" class="banner hidden" role="alert" data-testid="error-banner"></div>
  <form id="token-form" class="card hidden" data-testid="token-form" autocomplete="off">
    <label for="token-input">API token</label>
    <input id="token-input" type="password" placeholder="the token from the pool's [http] config" spellcheck="false">
    <button type="submit" id="token-save">Save</button>
  </form>
  <section class="tiles" aria-label="Pool summary">
    <div class="tile"><div class="label">Pool hashrate</div><div class="value" id="pool-hashrate" data-testid="pool-hashrate">–</div><div class="sub" id="pool-hashrate-1m"></div></div>
    <div class="tile"><div class="label">Miners</div><div class="value" id="miners" data-testid="miners">–</div><div class="sub" id="channels"></div></div>
    <div class="tile"><div class="label">Workers online</div><div class="value" id="workers-online">–</div><div class="sub" id="workers-known"></div></div>
    <div class="tile"><div class="label">Shares accepted</div><div class="value" id="shares-accepted" data-testid="shares-accepted">–</div><div class="sub" id="shares-rejected"></div></div>
    <div class="tile"><div class="label">Blocks found</div><div class="value" id="blocks-found" data-testid="blocks-found">–</div><div class="sub" id="blocks-detail"></div></div>
    <div class="tile"><div class="label">Uptime</div><div class="value" id="uptime">–</div><div class="sub" id="version"></div></div>
  </section>
  <div class="row2">
    <section class="card" aria-labelledby="chart-title">
      <div class="card-head">
        <h2 id="chart-title">Pool hashrate</h2>
        <div class="seg" id="range" role="group" aria-label="Period">
          <button type="button" data-minutes="60" class="on">1 h</button><button type="button" data-minutes="360">6 h</button><button type="button" data-minutes="1440">24 h</button><button type="button" data-minutes="10080">7 d</button>
        </div>
      </div>
      <div id="chart" data-testid="hashrate-chart"><svg id="hashrate-svg" role="img" aria-label="Pool hashrate over time"></svg><div id="chart-tip" class="tip hidden"></div></div>
    </section>
    <section class="card" aria-labelledby="connect-title">
      <div class="card-head"><h2 id="connect-title">Connect miners</h2></div>
      <dl class="connect">
        <dt>Stratum V2 address</dt><dd><span class="mono" id="sv2-listen" data-testid="sv2-listen">–</span></dd>
        <dt>Authority public key</dt><dd><span class="mono" id="authority-key" data-testid="authority-key">–</span><button type="button" class="copy" data-copy="authority-key">Copy</button></dd>
        <dt>Stratum V1 address</dt><dd><span class="mono" id="sv1-listen" data-testid="sv1-listen">–</span></dd>
        <dt>Dashboard and API</dt><dd><span class="mono" id="http-listen">–</span></dd>
      </dl>
      <p class="hint">SV2 miners and proxies need the address and the authority key. The worker name is the user identity (SV2) or the username (SV1).</p>
    </section>
  </div>
  <section class="card" aria-labelledby="workers-title">
    <div class="card-head"><h2 id="workers-title">Workers <span class="count" id="workers-count"></span></h2></div>
    <div class="table-wrap">
      <table id="workers-table" data-testid="workers-table">
        <thead><tr><th>Worker</th><th class="num">Hashrate</th><th class="num">Accepted</th><th class="num">Rejected</th><th class="num">Reject rate</th><th class="num">Best share</th><th class="num">Blocks</th><th class="num">Last seen</th></tr></thead>
        <tbody id="workers-body"></tbody>
      </table>
    </div>
    <p class="empty" id="workers-empty">No workers yet. Point a miner at the Stratum address above.</p>
  </section>
  <section class="card" aria-labelledby="blocks-title">
    <div class="card-head"><h2 id="blocks-title">Blocks found <span class="count" id="blocks-count"></span></h2></div>
    <div class="table-wrap">
      <table id="blocks-table" data-testid="blocks-table">
        <thead><tr><th class="num">Height</th><th>Hash</th><th>Worker</th><th>Status</th><th>Node answer</th><th class="num">Found</th></tr></thead>
        <tbody id="blocks-body"></tbody>
      </table>
    </div>
    <p class="empty" id="blocks-empty">No blocks found yet.</p>
  </section>
</main>
<footer><span>Refreshes every 5 s.</span><a href="/metrics">Prometheus metrics</a><button type="button" id="token-forget" class="hidden">Forget the API token</button></footer>
<script>${DASHBOARD_JS}</script>
</body>
</html>
`;
