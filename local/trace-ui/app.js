/* global document, window, history, location */
// The local trace UI (served by local/trace-view.ts): search page (`/` or `/search?…`) and trace page
// (`/trace/<id>#span-<spanId>`), rendered from the view's JSON (`/api/local/...`) and Jaeger's `/api/services`.
// Plain browser JavaScript, no build step.

const $ = (selector) => document.querySelector(selector);
const main = $("#main");
const searchForm = $("#search");
const REFRESH_MS = 3000;
let refreshTimer;
/** Counts navigations: a late answer or a refresh timer from before the latest navigation is dropped. */
let routeSeq = 0;

function esc(value) {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}
function ms(value) {
  if (value >= 1000) return (value / 1000).toFixed(2) + " s";
  if (value >= 10) return value.toFixed(1) + " ms";
  return value.toFixed(2) + " ms";
}
function fmtValue(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}
async function getJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body };
}
function traceLink(traceId, spanId, text) {
  const href = "/trace/" + traceId + (spanId ? "#span-" + spanId : "");
  return '<a href="' + href + '" data-nav>' + esc(text || traceId) + "</a>";
}

// ---- navigation ----
function navigate(url) {
  history.pushState(null, "", url);
  route();
}
document.addEventListener("click", (event) => {
  const anchor = event.target.closest && event.target.closest("a[data-nav]");
  if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute("href"));
});
window.addEventListener("popstate", route);

$("#find").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("#find-id").value.trim().toLowerCase();
  if (id) navigate("/trace/" + id);
});

// ---- search form ----
const LOOKBACK_US = { "5m": 300e6, "15m": 900e6, "1h": 3600e6 };

function formToParams() {
  const data = new window.FormData(searchForm);
  const params = new URLSearchParams();
  for (const key of ["service", "operation", "errors", "minDuration", "maxDuration", "lookback", "limit", "batch"]) {
    const value = data.get(key);
    if (value) params.set(key, String(value));
  }
  const tags = String(data.get("tags") || "").trim();
  if (tags) params.set("tags", tags);
  if (data.get("lookback") === "custom") {
    if (data.get("from")) params.set("from", String(data.get("from")));
    if (data.get("to")) params.set("to", String(data.get("to")));
  }
  return params;
}

function paramsToForm(params) {
  for (const key of ["errors", "minDuration", "maxDuration", "lookback", "from", "to", "tags"]) {
    const input = searchForm.elements.namedItem(key);
    if (input) input.value = params.get(key) || "";
  }
  $("#limit").value = params.get("limit") || "100";
  $("#batch").checked = params.get("batch") === "1";
  $("#range").style.display = params.get("lookback") === "custom" ? "" : "none";
}

/** "k=v k2=v2" → Jaeger's tags JSON. */
function tagsJson(text) {
  const tags = {};
  for (const pair of text.split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at > 0) tags[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return JSON.stringify(tags);
}

/** The UI's query string → the view's API query (Jaeger parameters plus errors/batch). */
function apiQuery(params) {
  const query = new URLSearchParams();
  for (const key of ["service", "operation", "errors", "minDuration", "maxDuration", "limit", "batch"]) {
    if (params.get(key)) query.set(key, params.get(key));
  }
  if (params.get("tags")) query.set("tags", tagsJson(params.get("tags")));
  const lookback = params.get("lookback");
  if (LOOKBACK_US[lookback]) query.set("start", String(Math.floor(Date.now() * 1000 - LOOKBACK_US[lookback])));
  if (lookback === "custom") {
    if (params.get("from")) query.set("start", String(new Date(params.get("from")).getTime() * 1000));
    if (params.get("to")) query.set("end", String(new Date(params.get("to")).getTime() * 1000));
  }
  return query;
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  navigate("/search?" + formToParams().toString());
});
$("#lookback").addEventListener("change", () => {
  $("#range").style.display = $("#lookback").value === "custom" ? "" : "none";
});
$("#service").addEventListener("change", () => loadOperations($("#service").value, ""));

async function loadServices(selected) {
  const { body } = await getJson("/api/services");
  const services = Array.isArray(body.data) ? body.data : [];
  $("#service").innerHTML =
    '<option value="">all services</option>' +
    services.map((s) => '<option value="' + esc(s) + '">' + esc(s) + "</option>").join("");
  $("#service").value = services.includes(selected) ? selected : "";
}
async function loadOperations(service, selected) {
  let operations = [];
  if (service) {
    const { body } = await getJson("/api/services/" + encodeURIComponent(service) + "/operations");
    operations = Array.isArray(body.data) ? body.data : [];
  }
  $("#operation").innerHTML =
    '<option value="">all operations</option>' +
    operations.map((o) => '<option value="' + esc(o) + '">' + esc(o) + "</option>").join("");
  $("#operation").value = operations.includes(selected) ? selected : "";
}

// ---- search results ----
async function renderSearch(params, seq) {
  const { status, body } = await getJson("/api/local/traces?" + apiQuery(params).toString());
  if (seq !== routeSeq) return; // navigated away meanwhile: never paint over the newer view
  if (status !== 200) {
    main.innerHTML = '<div class="notice">Search failed: ' + esc(body.error || status) + "</div>";
    return;
  }
  const traces = body.traces;
  const rows = traces
    .map(
      (t) =>
        '<tr class="trace-row' +
        (t.errorSpans ? " error" : "") +
        '" data-trace-id="' +
        t.traceId +
        '"><td>' +
        esc(new Date(t.startTime).toLocaleTimeString()) +
        "</td><td><b>" +
        esc(t.rootService) +
        "</b> · " +
        traceLink(t.traceId, "", t.rootName) +
        '<div class="mono muted">' +
        t.traceId +
        "</div></td><td>" +
        esc(t.services.join(", ")) +
        "</td><td>" +
        t.spanCount +
        "</td><td>" +
        ms(t.durationMs) +
        '</td><td><span class="badge ' +
        t.state +
        '">' +
        t.state +
        "</span>" +
        (t.errorSpans
          ? ' <span class="badge err">' + t.errorSpans + " error" + (t.errorSpans > 1 ? "s" : "") + "</span>"
          : "") +
        "</td></tr>",
    )
    .join("");
  main.innerHTML =
    "<h2>" +
    traces.length +
    " trace" +
    (traces.length === 1 ? "" : "s") +
    ' <span class="muted">newest first · ' +
    (params.get("batch") === "1" ? "batch traces shown" : "batch traces hidden") +
    " · " +
    body.retained.spans +
    " spans retained · refreshes every 3 s</span></h2>" +
    (traces.length === 0
      ? '<div class="notice">No traces match. Send a request (<code>curl -X POST …/onboard</code>) or widen the search.</div>'
      : '<table class="results"><thead><tr><th>start</th><th>trace</th><th>services</th><th>spans</th><th>duration</th><th>state</th></tr></thead><tbody>' +
        rows +
        "</tbody></table>");
}

// ---- trace page ----
let current; // { traceId, data, selected }

function buildTree(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  const roots = [];
  const sorted = [...spans].sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  for (const span of sorted) {
    if (span.parentSpanId && ids.has(span.parentSpanId)) {
      if (!children.has(span.parentSpanId)) children.set(span.parentSpanId, []);
      children.get(span.parentSpanId).push(span);
    } else roots.push(span);
  }
  const ordered = [];
  const visit = (span, depth) => {
    ordered.push({ span, depth });
    for (const child of children.get(span.spanId) || []) visit(child, depth + 1);
  };
  roots.forEach((root) => visit(root, 0));
  return ordered;
}

function niceStep(total) {
  const raw = total / 5;
  const power = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => total / step <= 6) || raw;
}

function renderWaterfall(data) {
  const total = Math.max(data.durationMs, 0.001);
  const pct = (value) => Math.min(Math.max((value / total) * 100, 0), 100);
  const step = niceStep(total);
  let ticks = "";
  let grid = "";
  for (let at = 0; at <= total + 1e-9; at += step) {
    ticks += '<span class="tick" style="left:' + pct(at) + '%">' + ms(at) + "</span>";
    grid += '<span class="gridline" style="left:' + pct(at) + '%"></span>';
  }
  if (total - Math.floor(total / step) * step > step / 3) {
    ticks += '<span class="tick" style="left:100%">' + ms(total) + "</span>";
  }
  const byId = new Map(data.spans.map((s) => [s.spanId, s]));
  const rows = [];
  for (const { span, depth } of buildTree(data.spans)) {
    const parent = span.parentSpanId && byId.get(span.parentSpanId);
    if (parent && parent.kind === "PRODUCER" && span.kind === "CONSUMER") {
      const from = parent.offsetMs + parent.durationMs;
      const wait = Math.max(span.offsetMs - from, 0);
      rows.push(
        '<div class="row wait" data-wait-for="' +
          span.spanId +
          '"><div class="label" style="padding-left:' +
          (8 + depth * 16) +
          'px">queue wait ' +
          ms(wait) +
          ' <span class="muted">(' +
          esc(parent.name) +
          " → " +
          esc(span.name) +
          ')</span></div><div class="lane">' +
          grid +
          '<span class="wait-bar" style="left:' +
          pct(from) +
          "%;width:" +
          Math.max(pct(from + wait) - pct(from), 0.2) +
          '%"></span><span class="bar-text" style="' +
          (pct(from + wait) > 70
            ? "right:calc(" + (100 - pct(from)) + "% + 4px)"
            : "left:calc(" + pct(from + wait) + "% + 4px)") +
          '">queue wait ' +
          ms(wait) +
          "</span></div></div>",
      );
    }
    const left = pct(span.offsetMs);
    const width = Math.max(pct(span.offsetMs + span.durationMs) - left, 0.15);
    const textPos =
      left + width > 70 ? "right:calc(" + (100 - left) + "% + 4px)" : "left:calc(" + (left + width) + "% + 4px)";
    rows.push(
      '<div class="row span-row' +
        (span.error ? " error" : "") +
        (current && current.selected === span.spanId ? " selected" : "") +
        '" id="span-' +
        span.spanId +
        '" data-span-id="' +
        span.spanId +
        '"><div class="label" style="padding-left:' +
        (8 + depth * 16) +
        'px"><span class="kind k-' +
        span.kind +
        '">' +
        span.kind +
        "</span> " +
        (span.error ? '<span class="badge err">error</span> ' : "") +
        '<span class="service muted">' +
        esc(span.service) +
        '</span> <span class="name">' +
        esc(span.name) +
        '</span> <span class="dur">' +
        ms(span.durationMs) +
        '</span> <span class="muted">+' +
        ms(span.offsetMs) +
        "</span>" +
        (span.events.length ? ' <span class="badge">' + span.events.length + " event(s)</span>" : "") +
        (span.links.length ? ' <span class="badge">↔ ' + span.links.length + " link(s)</span>" : "") +
        '</div><div class="lane">' +
        grid +
        '<span class="bar ' +
        span.kind +
        (span.error ? " error" : "") +
        '" style="left:' +
        left +
        "%;width:" +
        width +
        '%"></span><span class="bar-text" style="' +
        textPos +
        '">' +
        ms(span.durationMs) +
        "</span></div></div>",
    );
  }
  return (
    '<div class="waterfall"><div class="axis"><div class="label muted" style="padding:3px 8px">service · span · duration · offset</div><div class="ticks">' +
    ticks +
    "</div></div>" +
    rows.join("") +
    "</div>"
  );
}

function kvTable(record) {
  const entries = Object.entries(record || {});
  if (entries.length === 0) return '<p class="muted">none</p>';
  return (
    "<table>" +
    entries.map(([k, v]) => '<tr><td class="k">' + esc(k) + "</td><td>" + esc(fmtValue(v)) + "</td></tr>").join("") +
    "</table>"
  );
}

function renderDetail(data, spanId) {
  const span = data.spans.find((s) => s.spanId === spanId);
  if (!span) return "";
  const linkedFrom = data.linkedFrom.filter((l) => l.toSpanId === span.spanId);
  const events = span.events.length
    ? span.events
        .map(
          (e) =>
            '<div class="event' +
            (e.name === "exception" ? " exception" : "") +
            '"><b>' +
            esc(e.name) +
            '</b> <span class="muted">+' +
            ms(e.offsetMs) +
            "</span>" +
            kvTable(e.attributes) +
            "</div>",
        )
        .join("")
    : '<p class="muted">none</p>';
  const links = span.links.length
    ? "<ul>" +
      span.links
        .map(
          (l) =>
            "<li>→ " +
            traceLink(
              l.traceId,
              l.spanId,
              (l.service ? l.service + " " + l.name + " " : "") + "in trace " + l.traceId,
            ) +
            (Object.keys(l.attributes).length ? " " + esc(JSON.stringify(l.attributes)) : "") +
            "</li>",
        )
        .join("") +
      "</ul>"
    : "";
  const from = linkedFrom.length
    ? "<ul>" +
      linkedFrom
        .map(
          (l) =>
            "<li>← " + traceLink(l.traceId, l.spanId, l.service + " " + l.name + " in trace " + l.traceId) + "</li>",
        )
        .join("") +
      "</ul>"
    : "";
  return (
    '<div class="detail" id="detail" data-span-id="' +
    span.spanId +
    '"><h3><span class="kind k-' +
    span.kind +
    '">' +
    span.kind +
    "</span> " +
    esc(span.service) +
    " · " +
    esc(span.name) +
    "</h3>" +
    kvTable({
      "span id": span.spanId,
      "parent span id": span.parentSpanId || "(root)",
      start: span.startTime + "  (+" + ms(span.offsetMs) + ")",
      duration: ms(span.durationMs),
      scope: span.scope ? span.scope.name + (span.scope.version ? " " + span.scope.version : "") : "",
    }) +
    '<h4>Status</h4><p class="status-' +
    span.status.code +
    '">' +
    esc(span.status.code) +
    (span.status.message ? ": " + esc(span.status.message) : "") +
    "</p><h4>Attributes</h4>" +
    kvTable(span.attributes) +
    "<h4>Events</h4>" +
    events +
    "<h4>Links</h4>" +
    (links || from ? links + from : '<p class="muted">none</p>') +
    "<h4>Resource</h4>" +
    kvTable(span.resource) +
    "</div>"
  );
}

function linkedTraces(data) {
  const out = new Map();
  for (const span of data.spans) {
    for (const l of span.links) if (l.traceId !== data.traceId) out.set(l.traceId, "→");
  }
  for (const l of data.linkedFrom) out.set(l.traceId, out.has(l.traceId) ? "↔" : "←");
  if (out.size === 0) return "";
  return (
    '<div class="linked">Linked traces: ' +
    [...out.entries()].map(([id, dir]) => dir + " " + traceLink(id, "", id.slice(0, 12) + "…")).join(" ") +
    "</div>"
  );
}

async function renderTrace(traceId, keepScroll, seq) {
  if (!/^[0-9a-f]{32}$/.test(traceId)) {
    main.innerHTML = '<div class="notice">"' + esc(traceId) + '" is not a trace id (32 hex characters).</div>';
    return;
  }
  const { status, body } = await getJson("/api/local/traces/" + traceId);
  if (seq !== routeSeq) return;
  if (status === 404) {
    main.innerHTML =
      '<div class="notice" id="not-found">Trace <span class="mono">' +
      esc(traceId) +
      "</span> not found (yet). Spans arrive within a second of the request; this page keeps looking.</div>";
    scheduleRefresh(() => renderTrace(traceId, false, seq), seq);
    return;
  }
  const hashSpan = (location.hash.match(/^#span-([0-9a-f]{16})$/) || [])[1];
  const selected =
    (current && current.traceId === traceId && current.selected) ||
    (hashSpan && body.spans.some((s) => s.spanId === hashSpan) ? hashSpan : undefined);
  current = { traceId, data: body, selected };
  const scroll = window.scrollY;
  main.innerHTML =
    '<div class="trace-head" id="trace-head"><h2>' +
    esc(body.rootService) +
    " · " +
    esc(body.rootName) +
    ' <span class="badge ' +
    body.state +
    '">' +
    body.state +
    "</span>" +
    (body.errorSpans
      ? ' <span class="badge err">' + body.errorSpans + " error" + (body.errorSpans > 1 ? "s" : "") + "</span>"
      : "") +
    '</h2><div class="mono">' +
    body.traceId +
    '</div><div class="muted">' +
    esc(new Date(body.startTime).toLocaleString()) +
    " · " +
    ms(body.durationMs) +
    " · " +
    body.spanCount +
    " spans · " +
    esc(body.services.join(" → ")) +
    "</div>" +
    linkedTraces(body) +
    '<div class="actions"><a href="/api/local/traces/' +
    body.traceId +
    '/otlp.json" download="trace-' +
    body.traceId +
    '.otlp.json" id="download">download OTLP JSON</a><a href="/api/traces/' +
    body.traceId +
    '">Jaeger JSON</a><a href="/" data-nav>back to search</a></div></div>' +
    renderWaterfall(body) +
    (selected ? renderDetail(body, selected) : '<p class="muted">Click a span for its details.</p>');
  if (keepScroll) window.scrollTo(0, scroll);
  else if (selected) document.getElementById("span-" + selected).scrollIntoView({ block: "center" });
  if (body.state === "open") scheduleRefresh(() => renderTrace(traceId, true, seq), seq);
}

main.addEventListener("click", (event) => {
  const row = event.target.closest && event.target.closest(".span-row");
  if (!row || !current || (event.target.closest("a") && !event.target.closest(".label"))) return;
  current.selected = row.dataset.spanId;
  history.replaceState(null, "", "/trace/" + current.traceId + "#span-" + current.selected);
  for (const r of document.querySelectorAll(".span-row.selected")) r.classList.remove("selected");
  row.classList.add("selected");
  const detail = renderDetail(current.data, current.selected);
  const existing = document.getElementById("detail") || main.querySelector("p.muted:last-child");
  if (existing) existing.outerHTML = detail;
  else main.insertAdjacentHTML("beforeend", detail);
  document.getElementById("detail").scrollIntoView({ block: "nearest" });
});

/** Re-renders the view of navigation `seq` later, unless another navigation came since (its own timer stays). */
function scheduleRefresh(fn, seq) {
  if (seq !== routeSeq) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(fn, REFRESH_MS);
}

// aria-busy on #main while a view loads (set before the first await, cleared by the latest navigation only): assistive
// technology and the browser tests can tell a rendered view from the one still on screen while the next one loads.
async function route() {
  const seq = ++routeSeq;
  main.setAttribute("aria-busy", "true");
  try {
    await showRoute(seq);
  } finally {
    if (seq === routeSeq) main.setAttribute("aria-busy", "false");
  }
}
async function showRoute(seq) {
  clearTimeout(refreshTimer);
  const match = location.pathname.match(/^\/trace\/([^/]+)$/);
  if (match) {
    const id = decodeURIComponent(match[1]).toLowerCase();
    if (!current || current.traceId !== id) current = undefined;
    $("#find-id").value = id;
    document.title = "trace " + id + " — local traces";
    if (!$("#service").options.length) void loadServices("").then(() => loadOperations("", ""));
    await renderTrace(id, false, seq);
    return;
  }
  current = undefined;
  document.title = "traced-onboarding — local traces";
  const params = new URLSearchParams(location.search);
  paramsToForm(params);
  await loadServices(params.get("service") || "");
  await loadOperations(params.get("service") || "", params.get("operation") || "");
  const refresh = async () => {
    await renderSearch(params, seq);
    scheduleRefresh(refresh, seq);
  };
  await refresh();
}

route();
