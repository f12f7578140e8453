import { gql, subscribe } from '../api.js';
import { h, mount, loading, errorBox, emptyState, select, field, fmtNumber, fmtMs, fmtBytes, fmtDate } from '../dom.js';
import { chart } from '../chart.js';

const LIVE_WINDOW = 60; // seconds on the live chart
const RANGES = {
  hour: { label: 'Last hour', resolution: 'MINUTE', span: 60e3, count: 60, fmt: (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) },
  day: { label: 'Last 24 hours', resolution: 'HOUR', span: 3600e3, count: 24, fmt: (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) },
  month: { label: 'Last 30 days', resolution: 'DAY', span: 86400e3, count: 30, fmt: (d) => d.toLocaleDateString([], { month: 'short', day: 'numeric' }) },
};

/** A time today with seconds; an older one with its date. */
function fmtWhen(iso) {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : fmtDate(iso);
}

function stat(label, testid, unit) {
  const value = h('span', { class: 'stat-value', 'data-testid': testid }, '–');
  const el = h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value, unit ? h('span', { class: 'stat-unit' }, unit) : null);
  return { el, set(v) { value.textContent = v; } };
}

export async function analyticsView(ctx) {
  const p = ctx.project;

  // ------------------------------------------------------------ live
  const status = h('span', { class: 'live-status', 'data-state': 'connecting', 'data-testid': 'live-status', role: 'status' }, 'Connecting…');
  const stats = {
    rps: stat('Requests / s', 'live-rps'),
    errors: stat('Errors / s', 'live-errors'),
    p50: stat('Latency p50', 'live-p50'),
    p99: stat('Latency p99', 'live-p99'),
    today: stat('Requests today (UTC)', 'live-today'),
    documents: stat('Documents', 'live-documents'),
    users: stat('Users', 'live-users'),
    storage: stat('File storage', 'live-storage'),
  };
  const liveChart = chart({ label: `Requests per second, last ${LIVE_WINDOW} seconds`, height: 180, testid: 'live-chart', integer: true, xFormat: (d) => d.toLocaleTimeString([], { minute: '2-digit', second: '2-digit' }), yFormat: (v) => fmtNumber(Math.round(v * 10) / 10) });
  const liveError = h('div', {});

  const ticks = new Map(); // second (ms since 1970) → tick
  let offset = 0; // server clock − this clock

  function drawLive() {
    const end = Math.floor((Date.now() + offset) / 1000) * 1000;
    const x = [];
    const req = [];
    const err = [];
    for (let t = end - (LIVE_WINDOW - 1) * 1000; t <= end; t += 1000) {
      const tk = ticks.get(t);
      x.push(new Date(t));
      req.push(tk ? tk.requests : 0);
      err.push(tk ? tk.errors : 0);
    }
    for (const k of ticks.keys()) if (k < end - LIVE_WINDOW * 1000) ticks.delete(k);
    liveChart.update({ x, series: [{ name: 'requests', values: req, kind: 'bar', cls: 's-req' }, { name: 'errors', values: err, kind: 'bar', cls: 's-err' }] });
    // A quiet second shows as zero even between the server's idle ticks.
    const cur = ticks.get(end) || ticks.get(end - 1000);
    stats.rps.set(fmtNumber(cur ? cur.requests : 0));
    stats.errors.set(fmtNumber(cur ? cur.errors : 0));
    stats.p50.set(cur && cur.requests ? fmtMs(cur.p50Ms) : '–');
    stats.p99.set(cur && cur.requests ? fmtMs(cur.p99Ms) : '–');
  }

  function onTick(t) {
    const at = Date.parse(t.at);
    offset = at - Math.floor(Date.now() / 1000) * 1000;
    if (Math.abs(offset) < 1500) offset = 0; // same clock, give or take a second
    ticks.set(at, t);
    stats.today.set(fmtNumber(t.requestsToday));
    stats.documents.set(fmtNumber(t.documents));
    stats.users.set(fmtNumber(t.users));
    stats.storage.set(fmtBytes(t.storageBytes));
    drawLive();
  }

  const stop = subscribe(
    `subscription($id: ID!) { analytics(projectId: $id) { at requests errors p50Ms p99Ms requestsToday storageBytes documents users } }`,
    { id: p.id },
    {
      next: (d) => { liveError.replaceChildren(); onTick(d.analytics); },
      error: (err) => { mount(liveError, errorBox(err)); },
      status: (st) => {
        status.dataset.state = st;
        status.textContent = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', stopped: 'Stopped' }[st] || st;
      },
    });
  const timer = setInterval(drawLive, 1000);
  ctx.onLeave(() => { stop(); clearInterval(timer); liveChart.destroy(); });

  // ------------------------------------------------------------ history
  const rangeSel = select(Object.entries(RANGES).map(([k, r]) => [k, r.label]), ctx.query.get('range') || 'hour', { 'data-testid': 'history-range' });
  const reqChart = chart({ label: 'Requests over time', testid: 'history-requests', integer: true, yFormat: (v) => fmtNumber(Math.round(v)) });
  const latChart = chart({ label: 'Latency over time', testid: 'history-latency', yFormat: (v) => fmtMs(v) });
  const topBox = h('div', {}, loading());
  const recentBox = h('div', {}, loading());
  const historyError = h('div', {});
  const refresh = h('button', { type: 'button', class: 'btn btn-sm' }, 'Refresh');

  async function loadHistory() {
    const r = RANGES[rangeSel.value] || RANGES.hour;
    const now = Date.now();
    const first = Math.floor((now - (r.count - 1) * r.span) / r.span) * r.span;
    const from = new Date(first).toISOString();
    const to = new Date(now + 60e3).toISOString();
    let d;
    try {
      d = await gql(`query($id: ID!, $from: Time!, $to: Time!, $res: AnalyticsResolution!) {
        analyticsHistory(projectId: $id, from: $from, to: $to, resolution: $res) { start requests errors p50Ms p95Ms p99Ms }
        analyticsTopRoutes(projectId: $id, from: $from, to: $to, limit: 10) { method route count errors avgLatencyMs }
        recentRequests(projectId: $id, limit: 15) { method path status latencyMs at } }`,
      { id: p.id, from, to, res: r.resolution });
    } catch (err) {
      if (ctx.alive()) mount(historyError, errorBox(err, loadHistory));
      return;
    }
    if (!ctx.alive()) return;
    historyError.replaceChildren();
    const byStart = new Map(d.analyticsHistory.map((b) => [Math.floor(Date.parse(b.start) / r.span) * r.span, b]));
    const x = [];
    const cols = { requests: [], errors: [], p50: [], p95: [], p99: [] };
    for (let t = first; t <= now; t += r.span) {
      const b = byStart.get(t);
      x.push(new Date(t));
      cols.requests.push(b ? b.requests : 0);
      cols.errors.push(b ? b.errors : 0);
      // No requests in a span: no latency (a gap, not a zero).
      cols.p50.push(b && b.requests ? b.p50Ms : null);
      cols.p95.push(b && b.requests ? b.p95Ms : null);
      cols.p99.push(b && b.requests ? b.p99Ms : null);
    }
    const xFormat = r.fmt;
    reqChart.update({ x, xFormat, series: [{ name: 'requests', values: cols.requests, kind: 'bar', cls: 's-req' }, { name: 'errors', values: cols.errors, kind: 'bar', cls: 's-err' }] });
    latChart.update({ x, xFormat, series: [{ name: 'p50', values: cols.p50, kind: 'line', cls: 's-p50' }, { name: 'p95', values: cols.p95, kind: 'line', cls: 's-p95' }, { name: 'p99', values: cols.p99, kind: 'line', cls: 's-p99' }] });
    drawTop(d.analyticsTopRoutes);
    drawRecent(d.recentRequests);
  }

  function drawTop(rows) {
    if (!rows.length) { mount(topBox, emptyState('No requests in this period.', 'Traffic to /api and /graphql with this project\'s keys shows up here.')); return; }
    mount(topBox, h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
      h('caption', { class: 'sr-only' }, 'Busiest routes'),
      h('thead', {}, h('tr', {}, ['Route', 'Requests', 'Errors', 'Average latency'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('th', { scope: 'row', class: 'mono small nowrap' }, `${r.method} ${r.route}`),
        h('td', { class: 'num' }, fmtNumber(r.count)),
        h('td', { class: 'num' }, fmtNumber(r.errors)),
        h('td', { class: 'num' }, fmtMs(r.avgLatencyMs))))))));
  }

  function drawRecent(rows) {
    if (!rows.length) { mount(recentBox, emptyState('No requests yet.', null)); return; }
    mount(recentBox, h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'recent-requests' },
      h('caption', { class: 'sr-only' }, 'Newest requests'),
      h('thead', {}, h('tr', {}, ['When', 'Request', 'Status', 'Latency'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('td', { class: 'small nowrap' }, fmtWhen(r.at)),
        h('td', { class: 'mono small nowrap' }, `${r.method} ${r.path}`),
        h('td', {}, h('span', { class: ['badge', r.status >= 500 ? 'badge-err' : r.status >= 400 ? 'badge-warn' : 'badge-ok'] }, String(r.status))),
        h('td', { class: 'num' }, fmtMs(r.latencyMs))))))));
  }

  rangeSel.addEventListener('change', () => {
    const q = new URLSearchParams(location.search);
    q.set('range', rangeSel.value);
    history.replaceState(null, '', `${location.pathname}?${q}`);
    loadHistory();
  });
  refresh.addEventListener('click', loadHistory);
  const historyTimer = setInterval(loadHistory, 30000);
  ctx.onLeave(() => { clearInterval(historyTimer); reqChart.destroy(); latChart.destroy(); });

  mount(ctx.main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Analytics'), status),
    liveError,
    h('section', { class: 'card stack', 'aria-labelledby': 'live-h' },
      h('h2', { id: 'live-h' }, 'Live'),
      h('div', { class: 'stats' }, Object.values(stats).map((s) => s.el)),
      liveChart.el),
    h('section', { class: 'card stack', 'aria-labelledby': 'hist-h' },
      h('div', { class: 'section-head' },
        h('h2', { id: 'hist-h' }, 'History'),
        h('div', { class: 'inline-controls' }, field('Period', rangeSel, { inline: false }), refresh)),
      historyError,
      h('h3', {}, 'Requests and errors'), reqChart.el,
      h('h3', {}, 'Latency'), latChart.el),
    h('section', { class: 'card stack', 'aria-labelledby': 'top-h' }, h('h2', { id: 'top-h' }, 'Busiest routes'), topBox),
    h('section', { class: 'card stack', 'aria-labelledby': 'recent-h' }, h('h2', { id: 'recent-h' }, 'Recent requests'), recentBox));
  drawLive();
  await loadHistory();
}
