// The dashboard page: draws each state the server sends (the `graph` and `status` documents and the SVG
// drawing of one read) and nothing else. Every name from the cluster goes in as text, never as markup; the
// drawing is parsed as SVG by the browser and comes from the tool's own renderer, which escapes what it writes.
'use strict';

const $ = (selector) => document.querySelector(selector);

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') e.className = value;
    else e.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) e.append(child instanceof Node ? child : String(child));
  }
  return e;
}

const figure = (x, digits = 1) => (x === null || x === undefined ? '–' : x.toFixed(digits));
const percent = (x) => (x === null || x === undefined ? '–' : `${+x.toFixed(1)}%`);
const ms = (x) => (x === null || x === undefined ? '–' : `${Math.round(x)} ms`);
const pods = (p) => (p ? `${p.ready}/${p.total} ready` : 'no selector');

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- tabs ------------------------------------------------------------------------------------------------

function showTab() {
  const name = (location.hash || '#graph').slice(1);
  const known = ['graph', 'services', 'rollouts', 'findings'].includes(name) ? name : 'graph';
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.dataset.tab !== known;
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.dataset.tab === known);
}

// ---- the views -------------------------------------------------------------------------------------------

function drawSummary(state) {
  const graph = state.graph;
  const traffic = !graph ? '' : graph.traffic === 'observed' ? ` · calls over the last ${graph.window}` : ' · traffic unknown';
  const read = new Date(state.readAt).toLocaleTimeString();
  $('#summary').textContent = `${state.scope} · read ${read} (#${state.generation}) · calls re-read every ${state.interval}${traffic}`;
  const error = $('#error');
  error.hidden = !state.error;
  error.textContent = state.error ? `The last read failed, showing the one before: ${state.error}` : '';
  const unknown = $('#traffic');
  unknown.hidden = !(graph && graph.trafficUnknown);
  unknown.textContent = graph && graph.trafficUnknown ? `Traffic unknown: ${graph.trafficUnknown}. The graph shows the calls the routes allow.` : '';
}

function drawGraph(state) {
  const parsed = new DOMParser().parseFromString(state.svg, 'image/svg+xml');
  const svg = parsed.documentElement;
  if (svg.nodeName === 'svg') $('#drawing').replaceChildren(document.importNode(svg, true));
  const rows = state.graph.calls.map((c) => {
    const marks = c.marks.map((m) => el('span', { class: m === 'unused' ? 'mark unused' : 'mark' }, m));
    const problem = c.marks.some((m) => m !== 'unused');
    return el('tr', { class: problem ? 'problem' : null, 'data-from': c.from, 'data-to': c.to },
      el('td', {}, c.from), el('td', {}, c.to), el('td', {}, c.allowed ? 'allowed' : 'not routed'),
      el('td', { class: 'num' }, figure(c.requestsPerSecond, 2)),
      el('td', { class: 'num' }, c.errorRate === null ? '–' : percent(c.errorRate * 100)),
      el('td', { class: 'num' }, ms(c.p50Ms)), el('td', { class: 'num' }, ms(c.p99Ms)),
      el('td', { class: 'num' }, percent(c.share)), el('td', {}, marks));
  });
  fill($('#calls tbody'), rows);
}

function destinations(list) {
  return list.map((d) => `${d.version} ${percent(d.weightPercent)}`).join(' · ');
}

function routeTable(service, rates) {
  const head = el('tr', {}, ['route', 'match', 'destinations', 'mirror', 'managed by'].map((h) => el('th', {}, h)));
  const vs = service.routes.map((r) => el('tr', { class: r.reachable ? null : 'problem' },
    el('td', {}, `${r.virtualService}[${r.index}]${r.name ? ` ${r.name}` : ''}${r.reachable ? '' : ' (unreachable)'}`),
    el('td', {}, el('code', {}, r.matchSummary)), el('td', { class: 'weights' }, destinations(r.destinations)),
    el('td', {}, r.mirror ? `${r.mirror.version} ${percent(r.mirror.percent)}` : ''), el('td', {}, r.managedBy || '')));
  const rules = (service.rules || []).map((r) => el('tr', { class: r.reachable ? null : 'problem' },
    el('td', {}, `${r.httpRoute}[${r.index}]${r.name ? ` ${r.name}` : ''} via ${r.parent}`),
    el('td', {}, el('code', {}, r.matchSummary)), el('td', { class: 'weights' }, destinations(r.destinations)),
    el('td', {}, r.mirror ? `${r.mirror.version} ${percent(r.mirror.percent)}` : ''), el('td', {}, r.managedBy || '')));
  const versions = service.versions.map((v) => el('tr', {},
    el('td', {}, v.name), el('td', {}, pods(v.pods)), el('td', { class: 'num' }, rates.has(v.name) ? `${figure(rates.get(v.name), 2)} req/s` : '–'),
    el('td', {}, v.owners.join(', '))));
  return [
    el('table', { class: 'routes' }, el('thead', {}, head), el('tbody', {}, vs, rules)),
    el('table', { class: 'versions' },
      el('thead', {}, el('tr', {}, ['version', 'pods', 'received', 'owners'].map((h) => el('th', {}, h)))),
      el('tbody', {}, versions)),
  ];
}

function drawServices(state) {
  // Received rates per version come from the call graph (one Prometheus round trip serves both views).
  const rates = new Map();
  for (const group of state.graph.services) {
    for (const v of group.versions) if (group.host) rates.set(`${group.host} ${v.version}`, v.requestsPerSecond);
  }
  const cards = state.status.services.map((s) => {
    const mine = new Map([...rates].filter(([k]) => k.startsWith(`${s.host} `)).map(([k, r]) => [k.slice(s.host.length + 1), r]));
    const meta = [`split by ${s.split}`, s.versionPinned ? 'versions pinned' : null, s.waypoint ? `waypoint ${s.waypoint}` : null]
      .filter(Boolean).join(' · ');
    const rollout = s.rollout
      ? el('p', { class: 'meta' }, `Rollout ${s.rollout.namespace}/${s.rollout.name}: ${s.rollout.phase}${s.rollout.step ? `, step ${s.rollout.step}` : ''}`)
      : null;
    const findings = s.findings.map((f) => el('li', { class: `sev-${f.severity}` }, `${f.code} ${f.message}`));
    return el('div', { class: 'card', 'data-host': s.host },
      el('h3', {}, s.host), el('p', { class: 'meta' }, meta), rollout, routeTable(s, mine),
      findings.length ? el('ul', {}, findings) : null);
  });
  $('#tab-services').replaceChildren(...(cards.length ? cards : [el('p', { class: 'muted' }, 'No routed service here.')]));
  $('#count-services').textContent = String(cards.length);
}

function drawRollouts(state) {
  const seen = new Set();
  const rows = [];
  for (const s of state.status.services) {
    const r = s.rollout;
    if (!r || seen.has(`${r.namespace}/${r.name}`)) continue;
    seen.add(`${r.namespace}/${r.name}`);
    rows.push(el('tr', { class: r.phase === 'Degraded' ? 'problem' : null },
      el('td', {}, `${r.namespace}/${r.name}`), el('td', {}, r.strategy), el('td', {}, r.phase), el('td', {}, r.step || '–'),
      el('td', { class: 'num' }, r.desiredCanaryWeight === null ? '–' : `${r.desiredCanaryWeight}%`),
      el('td', { class: 'num' }, percent(r.actualCanaryWeight)), el('td', {}, r.message)));
  }
  fill($('#rollouts tbody'), rows);
  $('#no-rollouts').hidden = rows.length > 0;
  $('#count-rollouts').textContent = String(rows.length);
}

function drawFindings(state) {
  const all = [...state.status.findings, ...state.status.services.flatMap((s) => s.findings)];
  const rows = all.map((f) => el('tr', {},
    el('td', { class: `sev-${f.severity}` }, f.severity), el('td', {}, f.code), el('td', {}, f.object || ''),
    el('td', {}, f.message), el('td', {}, f.hint || '')));
  fill($('#findings tbody'), rows);
  $('#no-findings').hidden = rows.length > 0;
  $('#count-findings').textContent = String(rows.length);
}

function draw(state) {
  drawSummary(state);
  if (!state.graph) return; // no read has succeeded yet: the banner says why
  drawGraph(state);
  drawServices(state);
  drawRollouts(state);
  drawFindings(state);
  document.body.dataset.generation = String(state.generation);
}

// ---- the connection ----------------------------------------------------------------------------------------

function connect() {
  const connection = $('#connection');
  const events = new EventSource('/events');
  events.addEventListener('state', (e) => {
    connection.dataset.state = 'live';
    connection.textContent = 'live';
    draw(JSON.parse(e.data));
  });
  // EventSource reconnects by itself; the page only says so (and keeps what it shows).
  events.addEventListener('error', () => {
    connection.dataset.state = 'reconnecting';
    connection.textContent = 'reconnecting…';
  });
}

window.addEventListener('hashchange', showTab);
showTab();
connect();
