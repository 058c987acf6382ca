// quotad dashboard: plain JavaScript over the JSON API under /api/v1.
// No build step, no dependency but uPlot (vendored). Every value from the
// API is inserted as text, never as HTML.
(() => {
  'use strict';

  const API = '/api/v1';
  const TOKEN_KEY = 'quotad.token';
  const EVENT_PAGE = 50;
  const RUN_PATH = '/api/v1/channels/{name}/run';

  const state = {
    status: null,
    runSupported: false,
    sort: { key: 'name', dir: 1 },
    filter: '',
    events: { before: null, history: [], next: null },
    usage: null,
    charts: {},
    live: { ctrl: null, lastId: 0, retry: 2000, attempts: 0, connected: false, timer: null },
    refreshDue: new Set(),
  };

  // ---------- small helpers ----------

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // el builds an element: el('td', {class: 'x', dataset: {k: 'v'}, text: 'hi'}, child…)
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else if (k === 'hidden') e.hidden = true;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // cell is a table cell whose content sits in one box (phones lay cells
  // out as label | content).
  const cell = (tag, attrs, ...children) => el(tag, attrs, el('div', { class: 'cv' }, ...children));

  const nf = new Intl.NumberFormat();
  const fmtNum = (n) => nf.format(n);
  const dtf = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const dtfSec = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const tf = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

  function fmtTime(iso, seconds) {
    if (!iso) return '—';
    const d = new Date(iso);
    const now = new Date();
    if (!seconds && d.toDateString() === now.toDateString()) return tf.format(d);
    return (seconds ? dtfSec : dtf).format(d);
  }

  // fmtDur formats milliseconds as "2d 3h", "3h 12m", "12m 5s", "5s".
  function fmtDur(ms) {
    let s = Math.max(0, Math.round(ms / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }

  function relative(iso) {
    if (!iso) return '';
    const ms = new Date(iso) - Date.now();
    if (Math.abs(ms) < 1000) return 'now';
    return ms > 0 ? `in ${fmtDur(ms)}` : `${fmtDur(-ms)} ago`;
  }

  // timeEl is a <time> whose text counts live (see tick).
  function timeEl(iso, opts = {}) {
    if (!iso) return el('span', { class: 'muted', text: opts.none || '—' });
    const t = el('time', { datetime: iso, title: new Date(iso).toString(), class: opts.countdown ? 'countdown' : 'rel' });
    t.dataset.live = opts.countdown ? 'countdown' : 'relative';
    t.dataset.prefix = opts.prefix || '';
    renderTime(t);
    return t;
  }

  function renderTime(t) {
    const iso = t.getAttribute('datetime');
    const ms = new Date(iso) - Date.now();
    if (t.dataset.live === 'countdown') {
      t.textContent = ms > 0 ? `${t.dataset.prefix}${fmtDur(ms)} (${fmtTime(iso)})` : `due (${fmtTime(iso)})`;
      if (ms <= 0 && !state.refreshDue.has(iso)) {
        // The daemon resets on time and the event stream reports it; this
        // refresh is the fallback when the stream is down.
        state.refreshDue.add(iso);
        setTimeout(() => scheduleRefresh(0), 1500);
      }
    } else {
      t.textContent = `${fmtTime(iso)} (${relative(iso)})`;
    }
  }

  function tick() { $$('time[data-live]').forEach(renderTime); }

  function toast(msg, kind = 'info') {
    const t = $('#toast');
    t.textContent = msg;
    t.dataset.kind = kind;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, kind === 'error' ? 8000 : 4000);
  }

  function banner(msg) {
    const b = $('#banner');
    b.textContent = msg || '';
    b.hidden = !msg;
  }

  // keepFocus rebuilds part of the page and puts the focus back on the
  // element with the same id, if it still exists.
  function keepFocus(fn) {
    const id = document.activeElement && document.activeElement.id;
    fn();
    if (id && document.activeElement !== document.getElementById(id)) {
      const e = document.getElementById(id);
      if (e) e.focus({ preventScroll: true });
    }
  }

  // reconcile makes container's children the nodes of items, in order,
  // keeping (not even moving) every child whose key and signature are
  // unchanged, so that a live refresh neither loses the focus nor swallows
  // a click on a row that did not change. items: [{key, sig, build}].
  function reconcile(container, items) {
    const old = new Map();
    for (const c of container.children) if (c.dataset.key !== undefined) old.set(c.dataset.key, c);
    const want = items.map((it) => {
      const c = old.get(it.key);
      if (c && c.dataset.sig === it.sig) return c;
      const n = it.build();
      n.dataset.key = it.key;
      n.dataset.sig = it.sig;
      return n;
    });
    want.forEach((n, i) => {
      if (container.children[i] !== n) container.insertBefore(n, container.children[i] || null);
    });
    while (container.children.length > want.length) container.lastElementChild.remove();
  }

  const slug = (s) => String(s).replace(/[^A-Za-z0-9_-]/g, (c) => '_' + c.charCodeAt(0).toString(16));

  // ---------- API ----------

  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  class APIError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(API + path, init);
    const text = await r.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch { data = text; } }
    if (!r.ok) {
      const e = data && data.error;
      throw new APIError(r.status, e ? e.code : 'http', e ? e.message : `${r.status} ${r.statusText}`);
    }
    return data;
  }

  // read is api GET that asks for the token when the server needs it for reads.
  async function read(path) {
    try {
      return await api('GET', path);
    } catch (e) {
      if (e.status === 401) {
        banner('This daemon needs its token to show anything. Enter it with the Token button.');
        askToken(e.message);
      }
      throw e;
    }
  }

  // mutate sends a change; on 401 it asks for the token and tries once more.
  async function mutate(path, body = {}) {
    try {
      return await api('POST', path, body);
    } catch (e) {
      if (e.status === 401 && await askToken(e.message)) return api('POST', path, body);
      throw e;
    }
  }

  // ---------- dialogs ----------

  function openDialog(d) {
    if (typeof d.showModal === 'function') d.showModal(); else d.setAttribute('open', '');
  }
  function closeDialog(d) {
    if (typeof d.close === 'function') d.close(); else d.removeAttribute('open');
  }

  // confirmDialog resolves to null (cancelled) or the input's value ('' without input).
  function confirmDialog({ title, text, ok = 'Confirm', danger = false, input = null }) {
    const d = $('#confirm-dialog');
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    const okb = $('#confirm-ok');
    okb.textContent = ok;
    okb.classList.toggle('danger', danger);
    const row = $('#confirm-input-row');
    const inp = $('#confirm-input');
    row.hidden = !input;
    inp.value = '';
    if (input) { $('#confirm-input-label').textContent = input.label; inp.placeholder = input.placeholder || ''; }
    const opener = document.activeElement;
    return new Promise((resolve) => {
      const done = (v) => {
        $('#confirm-form').removeEventListener('submit', onSubmit);
        $('#confirm-cancel').removeEventListener('click', onCancel);
        d.removeEventListener('cancel', onCancel);
        closeDialog(d);
        if (opener && opener.isConnected) opener.focus();
        resolve(v);
      };
      const onSubmit = (ev) => { ev.preventDefault(); done(input ? inp.value.trim() : ''); };
      const onCancel = (ev) => { ev.preventDefault(); done(null); };
      $('#confirm-form').addEventListener('submit', onSubmit);
      $('#confirm-cancel').addEventListener('click', onCancel);
      d.addEventListener('cancel', onCancel);
      openDialog(d);
      (input ? inp : $('#confirm-cancel')).focus();
    });
  }

  let tokenPrompt = null;
  // askToken opens the token form; resolves true when a token was saved.
  function askToken(why) {
    if (tokenPrompt) return tokenPrompt;
    const d = $('#token-dialog');
    const inp = $('#token-input');
    inp.value = token();
    $('#token-why').textContent = (why ? why + ' — ' : '') +
      'Changes need the daemon\'s token (quotad token). It is kept in this tab only (sessionStorage) and sent as "Authorization: Bearer".';
    const opener = document.activeElement;
    tokenPrompt = new Promise((resolve) => {
      const done = (saved) => {
        $('#token-form').removeEventListener('submit', onSave);
        $('#token-cancel').removeEventListener('click', onCancel);
        $('#token-forget').removeEventListener('click', onForget);
        d.removeEventListener('cancel', onCancel);
        closeDialog(d);
        tokenPrompt = null;
        if (opener && opener.isConnected) opener.focus();
        resolve(saved);
      };
      const onSave = (ev) => {
        ev.preventDefault();
        const v = inp.value.trim();
        if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
        tokenChanged();
        done(!!v);
      };
      const onCancel = (ev) => { ev.preventDefault(); done(false); };
      const onForget = (ev) => { ev.preventDefault(); sessionStorage.removeItem(TOKEN_KEY); tokenChanged(); done(false); };
      $('#token-form').addEventListener('submit', onSave);
      $('#token-cancel').addEventListener('click', onCancel);
      $('#token-forget').addEventListener('click', onForget);
      d.addEventListener('cancel', onCancel);
      openDialog(d);
      inp.focus();
    });
    return tokenPrompt;
  }

  function tokenChanged() {
    $('#token-button').textContent = token() ? 'Token ✓' : 'Token';
    $('#token-button').setAttribute('aria-label', token() ? 'Token (set)' : 'Token (not set)');
    banner('');
    reconnect();
    scheduleRefresh(0);
  }

  // ---------- tabs ----------

  const TABS = ['overview', 'channels', 'usage', 'events', 'actions'];

  function showTab(name, focus) {
    if (!TABS.includes(name)) name = 'overview';
    for (const t of TABS) {
      const on = t === name;
      const b = $('#tab-' + t);
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      $('#' + t).hidden = !on;
    }
    if (focus) $('#tab-' + name).focus();
    if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
    if (name === 'usage') loadUsage();
    if (name === 'events') loadEvents();
  }
  const currentTab = () => TABS.find((t) => !$('#' + t).hidden) || 'overview';

  function setupTabs() {
    for (const t of TABS) $('#tab-' + t).addEventListener('click', () => showTab(t));
    $('.tabs').addEventListener('keydown', (ev) => {
      const i = TABS.indexOf(currentTab());
      let j = null;
      if (ev.key === 'ArrowRight') j = (i + 1) % TABS.length;
      else if (ev.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
      else if (ev.key === 'Home') j = 0;
      else if (ev.key === 'End') j = TABS.length - 1;
      if (j !== null) { ev.preventDefault(); showTab(TABS[j], true); }
    });
    window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
  }

  // ---------- status: overview and channels ----------

  let refreshTimer = null;
  let refreshing = null;
  let refreshAgain = false;

  // scheduleRefresh coalesces bursts of events into one status read.
  function scheduleRefresh(delay = 50) {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refreshStatus(); }, delay);
  }

  async function refreshStatus() {
    if (refreshing) { refreshAgain = true; return refreshing; }
    refreshing = (async () => {
      try {
        state.status = await read('/status');
        banner('');
        render();
      } catch (e) {
        if (e.status !== 401) banner('Cannot read the status: ' + e.message);
      } finally {
        refreshing = null;
        if (refreshAgain) { refreshAgain = false; scheduleRefresh(0); }
      }
    })();
    return refreshing;
  }

  function render() {
    keepFocus(() => { renderOverview(); renderChannels(); });
    fillSelects();
  }

  function renderOverview() {
    const st = state.status;
    const cards = $('#cards');
    cards.setAttribute('aria-busy', 'false');
    let exhausted = 0;
    const items = [];
    for (const a of st.apis) {
      if (!a.available) exhausted++;
      const api = { ...a, windows: undefined };
      // A model's windows show once one is used or out (Groq has dozens);
      // the others are counted in one line.
      const busy = new Set(a.windows.filter((w) => w.used || w.reserved || w.exhausted).map((w) => `${w.model || ''}@${w.scope || ''}`));
      const idle = new Set();
      let first = true;
      a.windows.forEach((w) => {
        if (w.model && !busy.has(`${w.model}@${w.scope || ''}`)) { idle.add(w.model); return; }
        const i = first ? 0 : 1;
        first = false;
        items.push({ key: `${a.name}/${w.key || w.name}`, sig: JSON.stringify([api, w, i]), build: () => card(a, w, i) });
      });
      if (idle.size) {
        const names = [...idle];
        items.push({ key: `${a.name}/-idle`, sig: JSON.stringify(names), build: () => el('p', { class: 'muted idle-models', dataset: { api: a.name }, text: `${a.name}: ${names.length} idle model${names.length > 1 ? 's' : ''} (${names.join(', ')})` }) });
      }
    }
    if (!st.apis.length) items.push({ key: '-', sig: '-', build: () => el('p', { class: 'muted', text: 'No API is configured.' }) });
    reconcile(cards, items);
    const paused = st.channels.filter((c) => !c.active).length;
    $('#summary').replaceChildren(
      el('span', { class: exhausted ? 'bad' : 'ok', text: exhausted ? `${exhausted} of ${st.apis.length} APIs unavailable` : `All ${st.apis.length} APIs available` }),
      ' · ',
      el('span', { class: paused ? 'warn' : 'ok', text: `${st.channels.length - paused} of ${st.channels.length} channels active` }),
    );
  }

  function card(a, w, i) {
    const unit = w.unit || a.unit || 'units';
    const key = w.key || w.name;
    const pct = w.limit > 0 ? Math.min(100, (w.used / w.limit) * 100) : 0;
    const rpct = w.limit > 0 ? Math.min(100 - pct, (w.reserved / w.limit) * 100) : 0;
    const apiBlocked = !a.available && !w.exhausted;
    const level = w.exhausted ? 'lvl-critical' : pct >= 95 ? 'lvl-critical' : pct >= 80 ? 'lvl-warn' : 'lvl-ok';
    const id = `card-${slug(a.name)}-${slug(key)}`;
    const bar = el('div', {
      class: 'bar', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': w.limit, 'aria-valuenow': w.used,
      'aria-label': `${a.name} ${key}: ${fmtNum(w.used)} of ${fmtNum(w.limit)} ${unit} used`,
    }, el('span', { class: 'used' }), el('span', { class: 'reserved' }));
    bar.children[0].style.width = pct + '%';
    bar.children[1].style.width = rpct + '%';
    const dl = el('dl');
    const row = (k, ...v) => dl.append(el('dt', { text: k }), el('dd', {}, ...v));
    if (w.exhausted) {
      row('Exhausted', timeEl(w.exhausted_at));
      if (w.blocked_until) row('Blocked until', timeEl(w.blocked_until, { countdown: true, prefix: 'in ' }));
    }
    row('Next reset', timeEl(w.next_reset, { countdown: true, prefix: 'in ', none: 'never by itself' }));
    if (w.forecast_exhausted_at) row('Forecast', el('span', { class: 'warn', text: 'runs out ' }), timeEl(w.forecast_exhausted_at));
    if (w.reserved) row('Reserved', `${fmtNum(w.reserved)} ${unit}`);
    row('Rule', el('code', { text: w.rule }));
    if (!a.auto_resume) row('Auto-resume', el('span', { class: 'warn', text: 'off: channels wait for a person' }));
    const badge = w.exhausted ? el('span', { class: 'badge bad', text: 'Exhausted' })
      : apiBlocked ? el('span', { class: 'badge warn', text: 'API unavailable' })
        : el('span', { class: 'badge ok', text: 'Available' });
    return el('article', {
      class: `card ${level}${w.exhausted ? ' exhausted' : ''}${apiBlocked ? ' api-blocked' : ''}`,
      id, 'aria-labelledby': id + '-h', dataset: { api: a.name, window: key, model: w.model || '', exhausted: String(w.exhausted) },
    },
    el('header', {},
      el('h3', { id: id + '-h' }, a.name + (w.scope ? `@${w.scope}` : ''), ' ', w.model ? el('span', { class: 'model', text: w.model + ' ' }) : null,
        el('span', { class: 'win', text: w.name + (w.bucket ? ' (bucket)' : '') })),
      badge),
    bar,
    el('p', { class: 'nums' },
      el('strong', { class: 'remaining', text: fmtNum(w.remaining) }), ` of ${fmtNum(w.limit)} ${unit} left · `,
      el('span', { class: 'used-text', text: `${fmtNum(w.used)} used (${pct.toFixed(pct < 10 && pct > 0 ? 1 : 0)}%)` })),
    dl,
    i === 0 ? el('div', { class: 'card-actions' },
      el('button', { type: 'button', id: `reset-${slug(a.name)}`, class: 'small', on: { click: () => resetAPI(a.name) } }, `Reset ${a.name}…`)) : null,
    );
  }

  // Channel table.

  const PRIORITY = { high: 2, normal: 1, low: 0 };
  const sortValue = {
    name: (c) => c.name.toLowerCase(),
    state: (c) => (c.active ? 0 : 1),
    reasons: (c) => c.pause_reasons.map((p) => p.reason).join(','),
    resume_at: (c) => (c.resume_at ? Date.parse(c.resume_at) : Infinity),
    last_run: (c) => (c.job && (c.job.last_start || c.job.last_end) ? Date.parse(c.job.last_start || c.job.last_end) : -Infinity),
    next_run: (c) => (c.job && c.job.next_run ? Date.parse(c.job.next_run) : Infinity),
    priority: (c) => -(PRIORITY[c.priority] ?? -1),
  };

  function channelMatches(c, q) {
    if (!q) return true;
    const hay = [c.name, c.active ? 'active' : 'paused', c.priority, ...c.apis,
      ...c.pause_reasons.flatMap((p) => [p.reason, p.detail || ''])].join(' ').toLowerCase();
    return q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
  }

  function renderChannels() {
    const st = state.status;
    const tbody = $('#channel-table tbody');
    const { key, dir } = state.sort;
    const list = st.channels.filter((c) => channelMatches(c, state.filter));
    list.sort((x, y) => {
      const a = sortValue[key](x), b = sortValue[key](y);
      return (a < b ? -1 : a > b ? 1 : 0) * dir || x.name.localeCompare(y.name);
    });
    $('#channel-table').classList.toggle('no-jobs', !st.channels.some((c) => c.job));
    reconcile(tbody, list.map((c) => ({ key: c.name, sig: JSON.stringify([c, state.runSupported]), build: () => channelRow(c) })));
    $('#channels-empty').hidden = list.length > 0;
    $('#channel-count').textContent = `${list.length} of ${st.channels.length}`;
    for (const th of $$('#channel-table th[data-key]')) {
      if (th.dataset.key === key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
  }

  function channelRow(c) {
    const s = slug(c.name);
    const reasons = c.pause_reasons.length
      ? el('ul', { class: 'reasons' }, c.pause_reasons.map((p) => el('li', {},
        el('code', { text: p.reason }), ' ', el('span', { class: 'muted' }, 'since ', timeEl(p.since)),
        p.until ? el('span', { class: 'muted' }, ' · until ', timeEl(p.until)) : null,
        p.detail ? el('div', { class: 'detail', text: p.detail }) : null)))
      : el('span', { class: 'muted', text: '—' });
    const resumes = c.active ? el('span', { class: 'muted', text: '—' })
      : c.resume_at ? timeEl(c.resume_at, { countdown: true, prefix: 'in ' })
        : el('span', { class: 'warn', text: 'needs a person' });
    const job = c.job || null;
    const lastRun = job && (job.last_start || job.last_end)
      ? el('span', {}, job.running ? el('span', { class: 'badge info', text: 'running' }) : null, ' ',
        timeEl(job.last_start || job.last_end), job.last_result ? el('div', { class: job.last_result === 'ok' ? 'ok' : 'warn', text: job.last_result + (job.last_detail ? ': ' + job.last_detail : '') }) : null)
      : el('span', { class: 'muted', text: job ? 'never' : '—' });
    // A paused channel's job does not run when its time comes: say so and
    // why, and when it may run again, rather than "due".
    const nextRun = job && !c.active
      ? el('span', { class: 'held' }, el('span', { class: 'warn', text: 'held: ' + c.pause_reasons.map((p) => p.reason).join(', ') }),
        el('div', { class: 'muted' }, c.resume_at ? 'runs again once resumed, ' : 'runs again once a person resumes it',
          c.resume_at ? timeEl(c.resume_at, { countdown: true, prefix: 'in ' }) : null))
      : job && job.next_run ? timeEl(job.next_run, { countdown: true, prefix: 'in ' })
        : el('span', { class: 'muted', text: job ? (job.schedule ? '—' : 'on demand') : '—' });
    const manual = c.pause_reasons.some((p) => p.reason === 'manual');
    const actions = el('div', { class: 'row-actions' },
      !manual ? el('button', { type: 'button', class: 'small pause', id: `pause-${s}`, on: { click: () => pauseChannel(c.name) } }, 'Pause…') : null,
      !c.active ? el('button', { type: 'button', class: 'small resume primary', id: `resume-${s}`, on: { click: () => resumeChannel(c.name) } }, 'Resume') : null,
      state.runSupported && job ? el('button', { type: 'button', class: 'small run', id: `run-${s}`, disabled: job.running, on: { click: () => runChannel(c.name) } }, 'Run now') : null,
    );
    return el('tr', { class: c.active ? 'active' : 'paused', dataset: { channel: c.name, active: String(c.active) } },
      cell('th', { scope: 'row', 'data-label': 'Channel' }, el('strong', { text: c.name }), el('div', { class: 'muted apis', text: c.apis.join(', ') })),
      cell('td', { 'data-label': 'State' }, c.active ? el('span', { class: 'badge ok', text: 'Active' }) : el('span', { class: 'badge bad', text: 'Paused' }),
        c.consecutive_errors ? el('div', { class: 'warn', text: `${c.consecutive_errors} error(s) in a row` }) : null),
      cell('td', { 'data-label': 'Pause reasons', class: 'reasons-cell' }, reasons),
      cell('td', { 'data-label': 'Resumes' }, resumes),
      cell('td', { 'data-label': 'Last run', class: 'job-col' }, lastRun),
      cell('td', { 'data-label': 'Next run', class: 'job-col' }, nextRun),
      cell('td', { 'data-label': 'Priority' }, el('span', { class: 'prio prio-' + c.priority, text: c.priority })),
      cell('td', { 'data-label': 'Actions', class: 'actions-col' }, actions),
    );
  }

  function setupChannels() {
    $('#channel-filter').addEventListener('input', (ev) => { state.filter = ev.target.value; if (state.status) keepFocus(renderChannels); });
    for (const th of $$('#channel-table th[data-key]')) {
      th.querySelector('button').addEventListener('click', () => {
        const k = th.dataset.key;
        state.sort = { key: k, dir: state.sort.key === k ? -state.sort.dir : 1 };
        if (state.status) renderChannels();
      });
    }
  }

  // ---------- actions ----------

  function logAction(msg, kind = 'ok') {
    const li = el('li', { class: kind }, el('time', { datetime: new Date().toISOString(), text: tf.format(new Date()) }), ' ', msg);
    $('#action-log').prepend(li);
    while ($('#action-log').children.length > 20) $('#action-log').lastChild.remove();
    toast(msg, kind === 'ok' ? 'info' : 'error');
  }

  async function act(label, path, body, describe) {
    try {
      const res = await mutate(path, body);
      logAction(describe(res || {}));
    } catch (e) {
      logAction(`${label} failed: ${e.message}`, 'error');
    } finally {
      scheduleRefresh(0);
    }
  }

  const list = (xs) => (xs && xs.length ? xs.join(', ') : 'none');

  async function resetAPI(name) {
    if (await confirmDialog({ title: `Reset ${name}?`, text: `Refill every window of ${name} now, as if its reset time had come. Channels waiting only for ${name} resume.`, ok: `Reset ${name}`, danger: true }) === null) return;
    await act(`Reset ${name}`, `/apis/${encodeURIComponent(name)}/reset`, {}, (r) => `Reset ${list(r.apis)}; resumed ${list(r.resumed)}`);
  }

  async function resetAll() {
    if (await confirmDialog({ title: 'Reset every API?', text: 'Refill every window of every API now. Channels waiting only for quota resume.', ok: 'Reset all', danger: true }) === null) return;
    await act('Reset all', '/reset', {}, (r) => `Reset ${list(r.apis)}; resumed ${list(r.resumed)}`);
  }

  async function resumeEligible() {
    if (await confirmDialog({ title: 'Resume eligible channels?', text: 'Resume every channel whose quota pauses have cleared. Manual and error pauses stay.', ok: 'Resume eligible' }) === null) return;
    await act('Resume eligible', '/resume', {}, (r) => `Resumed ${list(r.resumed)}${r.already_active && r.already_active.length ? '; already active: ' + list(r.already_active) : ''}`);
  }

  async function pauseChannel(name) {
    const reason = await confirmDialog({ title: `Pause ${name}?`, text: `${name} stops until a person resumes it: quotad never lifts a manual pause by itself.`, ok: `Pause ${name}`, danger: true, input: { label: 'Reason (optional)', placeholder: 'e.g. re-recording the intro' } });
    if (reason === null) return;
    await act(`Pause ${name}`, `/channels/${encodeURIComponent(name)}/pause`, reason ? { reason } : {}, () => `Paused ${name}`);
  }

  async function resumeChannel(name) {
    await act(`Resume ${name}`, `/channels/${encodeURIComponent(name)}/resume`, {}, (r) => (r.resumed && r.resumed.length ? `Resumed ${list(r.resumed)}` : `${name} was already active`));
  }

  async function runChannel(name) {
    await act(`Run ${name}`, `/channels/${encodeURIComponent(name)}/run`, {}, () => `Started a run of ${name}`);
  }

  function setupActions() {
    $('#action-reset-api').addEventListener('click', () => { const v = $('#reset-api-select').value; if (v) resetAPI(v); });
    $('#action-reset-all').addEventListener('click', resetAll);
    $('#action-resume-eligible').addEventListener('click', resumeEligible);
    $('#token-button').addEventListener('click', () => askToken(''));
  }

  // fillSelects keeps the API and channel pickers in step with the status.
  function fillSelects() {
    const st = state.status;
    const apis = st.apis.map((a) => a.name);
    const chans = st.channels.map((c) => c.name);
    const fill = (sel, names, first) => {
      const cur = sel.value;
      const want = (first ? [first[1]] : []).concat(names).join('\n');
      if (sel.dataset.filled === want) return;
      sel.replaceChildren(...(first ? [el('option', { value: first[0], text: first[1] })] : []), ...names.map((n) => el('option', { value: n, text: n })));
      sel.dataset.filled = want;
      if ([...sel.options].some((o) => o.value === cur)) sel.value = cur;
    };
    fill($('#reset-api-select'), apis, null);
    fill($('#usage-api'), apis, ['', 'All APIs']);
    fill($('#usage-channel'), chans, ['', 'All channels']);
    fill($('#event-channel'), chans, ['', 'Any']);
  }

  // ---------- events ----------

  let eventsLoading = false;
  let eventsAgain = false;

  async function loadEvents() {
    if (eventsLoading) { eventsAgain = true; return; }
    eventsLoading = true;
    const q = new URLSearchParams({ limit: String(EVENT_PAGE) });
    const cat = $('#event-category').value, ch = $('#event-channel').value, lvl = $('#event-level').value;
    if (cat) q.set('category', cat);
    if (ch) q.set('channel', ch);
    if (lvl) q.set('level', lvl);
    if (state.events.before) q.set('before', String(state.events.before));
    try {
      const page = await read('/logs?' + q);
      state.events.next = page.next_before;
      renderEvents(page.events);
    } catch (e) {
      if (e.status !== 401) banner('Cannot read the events: ' + e.message);
    } finally {
      eventsLoading = false;
      if (eventsAgain) { eventsAgain = false; loadEvents(); }
    }
  }

  function renderEvents(evs) {
    const rows = evs.map((e) => ({ key: String(e.id), sig: '', build: () => el('tr', { class: 'lvl-' + e.level.toLowerCase(), dataset: { id: e.id, category: e.category } },
      cell('td', { 'data-label': 'Time', class: 'nowrap' }, el('time', { datetime: e.timestamp, title: new Date(e.timestamp).toString(), text: fmtTime(e.timestamp, true) })),
      cell('td', { 'data-label': 'Level' }, el('span', { class: 'badge ' + ({ INFO: 'info', WARNING: 'warn', ERROR: 'bad' }[e.level] || ''), text: e.level })),
      cell('td', { 'data-label': 'Channel' }, e.channel || '—'),
      cell('td', { 'data-label': 'Category' }, el('code', { text: e.category })),
      cell('td', { 'data-label': 'Message', class: 'msg' }, e.message,
        e.fields && Object.keys(e.fields).length ? el('div', { class: 'fields' },
          Object.entries(e.fields).sort().map(([k, v]) => el('span', {}, el('span', { class: 'muted', text: k + '=' }), v))) : null),
    ) }));
    keepFocus(() => reconcile($('#event-table tbody'), rows));
    $('#events-empty').hidden = rows.length > 0;
    $('#events-newest').disabled = !state.events.before;
    $('#events-older').disabled = !state.events.next;
    const page = state.events.history.length + 1;
    $('#events-page').textContent = `page ${page}`;
  }

  function setupEvents() {
    const reset = () => { state.events = { before: null, history: [], next: null }; loadEvents(); };
    for (const id of ['#event-category', '#event-channel', '#event-level']) $(id).addEventListener('change', reset);
    $('#events-newest').addEventListener('click', reset);
    $('#events-older').addEventListener('click', () => {
      if (!state.events.next) return;
      state.events.history.push(state.events.before);
      state.events.before = state.events.next;
      loadEvents();
    });
  }

  // ---------- live: the event stream ----------

  function setLive(s, text) {
    $('#live').dataset.state = s;
    $('#live-text').textContent = text;
  }

  function reconnect() {
    if (state.live.ctrl) state.live.ctrl.abort();
    clearTimeout(state.live.timer);
    connect();
  }

  // connect reads /api/v1/events/stream with fetch (an EventSource cannot
  // send the Authorization header), parsing the SSE framing itself.
  async function connect() {
    const live = state.live;
    const ctrl = new AbortController();
    live.ctrl = ctrl;
    const headers = { Accept: 'text/event-stream' };
    if (token()) headers.Authorization = 'Bearer ' + token();
    if (live.lastId) headers['Last-Event-ID'] = String(live.lastId);
    try {
      const r = await fetch(API + '/events/stream', { headers, signal: ctrl.signal, cache: 'no-store', credentials: 'omit' });
      if (r.status === 401) { setLive('locked', 'Needs the token'); return; }
      if (!r.ok || !r.body) throw new Error(`stream answered ${r.status}`);
      live.attempts = 0;
      live.connected = true;
      setLive('on', 'Live');
      scheduleRefresh(0); // whatever happened while disconnected
      if (currentTab() === 'events' && !state.events.before) loadEvents();
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let m;
        while ((m = /\r\n\r\n|\n\n|\r\r/.exec(buf))) {
          const block = buf.slice(0, m.index);
          buf = buf.slice(m.index + m[0].length);
          handleBlock(block);
        }
      }
      throw new Error('stream ended');
    } catch (e) {
      if (ctrl.signal.aborted) return;
      live.connected = false;
      const delay = Math.min(30000, live.retry * 2 ** Math.min(live.attempts, 4)) * (0.8 + Math.random() * 0.4);
      live.attempts++;
      setLive('off', `Reconnecting in ${Math.round(delay / 1000)}s…`);
      live.timer = setTimeout(connect, delay);
    }
  }

  function handleBlock(block) {
    let id = null, type = 'message';
    const data = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (!line || line[0] === ':') continue;
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      let v = c < 0 ? '' : line.slice(c + 1);
      if (v[0] === ' ') v = v.slice(1);
      if (field === 'id') id = v;
      else if (field === 'event') type = v;
      else if (field === 'data') data.push(v);
      else if (field === 'retry' && /^\d+$/.test(v)) state.live.retry = Number(v);
    }
    if (id && /^\d+$/.test(id)) state.live.lastId = Number(id);
    if (type !== 'quotad' || !data.length) return;
    let ev;
    try { ev = JSON.parse(data.join('\n')); } catch { return; }
    onEvent(ev);
  }

  function onEvent(ev) {
    scheduleRefresh(30);
    const le = $('#last-event');
    le.replaceChildren(el('span', { class: 'badge ' + ({ INFO: 'info', WARNING: 'warn', ERROR: 'bad' }[ev.level] || '') , text: ev.category }), ' ', ev.channel ? `[${ev.channel}] ` : '', ev.message);
    le.title = new Date(ev.timestamp).toString();
    if (currentTab() === 'events' && !state.events.before) loadEvents();
    if (currentTab() === 'usage' && /quota|reset|forecast|threshold/.test(ev.category)) scheduleUsage();
  }

  // ---------- usage charts ----------

  let usageTimer = null;
  function scheduleUsage(delay = 500) {
    clearTimeout(usageTimer);
    usageTimer = setTimeout(loadUsage, delay);
  }

  const rangeSeconds = (v) => { const n = parseInt(v, 10); return v.endsWith('d') ? n * 86400 : n * 3600; };

  let usageSeq = 0;
  async function loadUsage() {
    if (!window.uPlot) { $('#usage-note').textContent = 'The chart library did not load.'; return; }
    const seq = ++usageSeq;
    const by = $('#usage-by').value, range = $('#usage-range').value;
    const q = new URLSearchParams({ by, since: range });
    const api = $('#usage-api').value, ch = $('#usage-channel').value;
    if (api) q.set('api', api);
    if (ch) q.set('channel', ch);
    try {
      const [usage, resets] = await Promise.all([
        read('/usage?' + q),
        read('/logs?category=quota_reset&limit=1000').catch(() => ({ events: [] })),
        state.status ? null : refreshStatus(),
      ]);
      if (seq !== usageSeq) return;
      state.usage = { by, range, api, channel: ch, points: Array.isArray(usage) ? usage : usage.points, resets: resets.events };
      drawCharts();
      drawCost();
      $('#usage-note').textContent = '';
    } catch (e) {
      if (seq !== usageSeq) return;
      $('#usage-note').textContent = e.status === 404 && e.code === 'not_found'
        ? 'This daemon does not serve usage history (GET /api/v1/usage).'
        : 'Cannot read the usage: ' + e.message;
    }
    clearTimeout(usageTimer);
    if (currentTab() === 'usage') usageTimer = setTimeout(loadUsage, 60000);
  }

  // drawCost shows what the range's usage cost, per API, model and channel
  // (at the models' prices); nothing when no call had a price.
  function drawCost() {
    const box = $('#usage-cost');
    const rows = new Map();
    for (const p of state.usage.points) {
      if (!p.cost) continue;
      const k = `${p.api}\u0000${p.model || ''}\u0000${p.channel || ''}`;
      const r = rows.get(k) || { api: p.api, model: p.model || '-', channel: p.channel || '-', units: 0, cost: 0 };
      r.units += p.units;
      r.cost += p.cost;
      rows.set(k, r);
    }
    if (!rows.size) { box.replaceChildren(); return; }
    const list = [...rows.values()].sort((a, b) => b.cost - a.cost);
    const total = list.reduce((s, r) => s + r.cost, 0);
    const usd = (d) => d < 0.01 ? `$${d.toFixed(6)}` : `$${d.toFixed(2)}`;
    const td = (t, cls) => el('td', { class: cls || '', text: t });
    box.replaceChildren(el('table', { class: 'cost', id: 'cost-table' },
      el('caption', { text: `Cost in range: ${usd(total)}` }),
      el('thead', {}, el('tr', {}, ...['API', 'Model', 'Channel', 'Units', 'Cost'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, ...list.map((r) => el('tr', {}, td(r.api), td(r.model), td(r.channel), td(fmtNum(r.units), 'num'), td(usd(r.cost), 'num'))))));
  }

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  const PALETTE = ['--s1', '--s2', '--s3', '--s4', '--s5', '--s6'];

  // windowPeriod estimates a window's period in seconds from its rule
  // (0 = unknown): daily, weekly, monthly (about 30 days), every D; a cron
  // rule by its last and next reset.
  function windowPeriod(w) {
    const r = (w.rule || '').trim().toLowerCase();
    const every = /^every\s+(\S+)/.exec(r);
    if (every) {
      let secs = 0;
      for (const [, n, u] of every[1].matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) secs += Number(n) * { h: 3600, m: 60, s: 1, ms: 0.001 }[u];
      return secs;
    }
    if (r.startsWith('daily')) return 86400;
    if (r.startsWith('weekly')) return 7 * 86400;
    if (r.startsWith('monthly')) return 30 * 86400;
    if (w.last_reset && w.next_reset) return (Date.parse(w.next_reset) - Date.parse(w.last_reset)) / 1000;
    return 0;
  }

  function drawCharts() {
    const u = state.usage;
    const st = state.status;
    const box = $('#charts');
    state.draws = (state.draws || 0) + 1;
    for (const c of Object.values(state.charts)) c.destroy();
    state.charts = {};
    box.replaceChildren();
    const step = u.by === 'day' ? 86400 : 3600;
    const now = Math.floor(Date.now() / 1000);
    const since = now - rangeSeconds(u.range);
    // With a channel chosen, the APIs it needs or spent on.
    const chan = u.channel ? st.channels.find((c) => c.name === u.channel) : null;
    const needs = (a) => !chan || chan.apis.includes(a.name) || Object.values(chan.fallbacks || {}).some((ps) => ps.includes(a.name)) || u.points.some((p) => p.api === a.name);
    const apis = st.apis.filter((a) => (!u.api || a.name === u.api) && needs(a));
    for (const a of apis) {
      const pts = u.points.filter((p) => p.api === a.name);
      // Usage is the API's, of every call, in its unit: it is drawn
      // against the windows that count exactly that.
      const own = a.windows.filter((w) => !w.model && !w.scope && !w.bucket && (!w.unit || w.unit === a.unit));
      const windows = own.filter((w) => { const p = windowPeriod(w); return !p || p >= 2 * step; });
      if ($('#usage-mode').value === 'bucket' || !windows.length) {
        // A window as long as a period (a daily window by day) has its
        // limit per bar.
        const per = own.find((w) => { const p = windowPeriod(w); return p && Math.abs(p - step) <= step * 0.1; });
        addChart(box, a, null, bucketChart(a, pts, step, since, now, per));
      } else {
        for (const w of windows) addChart(box, a, w, windowChart(a, w, pts, step, since, now, u));
      }
    }
    if (!apis.length) box.append(el('p', { class: 'muted', text: 'No API.' }));
  }

  function addChart(box, a, w, spec) {
    const key = w ? `${a.name}/${w.name}` : a.name;
    const fig = el('figure', { class: 'chart', dataset: { api: a.name, window: w ? w.name : '' } },
      el('figcaption', {}, el('strong', { text: a.name }), w ? ` ${w.name} window — used since its last reset` : spec.caption,
        spec.total ? el('span', { class: 'muted', text: ` · ${fmtNum(spec.total)} ${a.unit || 'units'} in range` }) : null),
    );
    const plot = el('div', { class: 'plot' });
    fig.append(plot);
    if (!spec.data[0].length || !spec.total) fig.append(el('p', { class: 'muted', text: 'No usage recorded in this range.' }));
    box.append(fig);
    const width = Math.max(280, plot.clientWidth || box.clientWidth || 600);
    const fg = cssVar('--fg'), grid = cssVar('--grid');
    const opts = {
      width, height: width < 500 ? 220 : 280,
      scales: { x: { time: true, range: [spec.xmin, spec.xmax] }, y: { range: (_u, _min, max) => [0, Math.max(1, max, spec.ymax || 0) * 1.08] } },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 64, values: (_u, vals) => vals.map((v) => compact(v)) },
      ],
      series: [{ label: 'time', value: (_u, v) => (v == null ? '—' : dtf.format(new Date(v * 1000))) }, ...spec.series],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [(uu) => drawMarkers(uu, spec.markers)] },
    };
    state.charts[key] = new uPlot(opts, spec.data, plot);
  }

  function compact(v) {
    if (v == null) return '';
    const trim = (x) => x.replace(/\.0$/, '');
    const a = Math.abs(v);
    if (a >= 1e9) return trim((v / 1e9).toFixed(a >= 1e10 ? 0 : 1)) + 'G';
    if (a >= 1e6) return trim((v / 1e6).toFixed(a >= 1e7 ? 0 : 1)) + 'M';
    if (a >= 1e3) return trim((v / 1e3).toFixed(a >= 1e4 ? 0 : 1)) + 'k';
    return String(Math.round(v * 100) / 100);
  }

  // drawMarkers draws vertical lines: resets (solid), the next reset and
  // "now" (dashed).
  function drawMarkers(u, markers) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    for (const m of markers) {
      const x = Math.round(u.valToPos(m.t, 'x', true));
      if (x < left - 1 || x > left + width + 1) continue;
      ctx.strokeStyle = m.color;
      ctx.fillStyle = m.color;
      ctx.lineWidth = devicePixelRatio;
      ctx.setLineDash(m.dash ? [4 * devicePixelRatio, 4 * devicePixelRatio] : []);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      if (m.label) {
        const tw = ctx.measureText(m.label).width;
        ctx.fillText(m.label, Math.min(x + 3 * devicePixelRatio, left + width - tw), top + (12 + 13 * (m.row || 0)) * devicePixelRatio);
      }
    }
    ctx.restore();
  }

  // windowChart is a window's used units over time (dropping to 0 at each
  // reset), its limit, and the forecast from now on.
  //
  // Resets split the range into periods r[0] < r[1] < … (from the log; a
  // manual reset names no window). A bucket belongs to the period in which
  // it starts; one that straddles a reset (an hour with a manual reset in
  // it) counts before it, as the history cannot tell. The x point at a
  // reset shows the period that ends, the point a second later the new one.
  // The current period of the total is anchored at the window's used units
  // now, so it is exact even when it began before the range.
  function windowChart(a, w, pts, step, since, now, u) {
    const color = (i) => cssVar(PALETTE[i % PALETTE.length]);
    const channelView = !!u.channel;
    let resets = u.resets
      .filter((e) => e.fields && e.fields.api === a.name && (!e.fields.window || e.fields.window === w.name) && e.fields.trigger !== 'retry_time')
      .map((e) => Date.parse(e.timestamp) / 1000);
    if (w.last_reset) resets.push(Date.parse(w.last_reset) / 1000);
    resets = [...new Set(resets.map((t) => Math.round(t)))].filter((t) => t >= since && t <= now).sort((x, y) => x - y);
    const k = resets.length; // index of the current period
    const periodOfStart = (t) => resets.filter((r) => r <= t).length;
    const periodOfPoint = (t) => resets.filter((r) => r < t).length;

    const names = [...new Set(pts.map((p) => p.channel))].sort();
    const bk = pts.map((p) => {
      const s = Date.parse(p.start) / 1000;
      const period = periodOfStart(s);
      const end = Math.min(s + step, now, period < k ? resets[period] : Infinity);
      return { s, e: end, ch: p.channel, units: p.units, period };
    });
    // value of a series (ch null = all channels) at point t.
    const value = (t, ch) => {
      if (t > now) return null;
      const p = periodOfPoint(t);
      let done = 0, todo = 0;
      for (const b of bk) {
        if (b.period !== p || (ch !== null && b.ch !== ch)) continue;
        if (b.e <= t) done += b.units; else todo += b.units;
      }
      if (ch === null && !channelView && p === k) return Math.max(0, w.used - todo);
      return done;
    };

    const xs = new Set([since, now]);
    for (const b of bk) { xs.add(b.s); xs.add(b.e); }
    for (const r of resets) { xs.add(r); if (r + 1 <= now) xs.add(r + 1); }

    // Forecast: the daemon's projection when it has one, else the rate of
    // the current period's last three hours.
    const used = value(now, null);
    const horizon = now + Math.max(rangeSeconds(u.range) * 0.5, 6 * 3600);
    const next = w.next_reset ? Date.parse(w.next_reset) / 1000 : Infinity;
    const periodStart = k ? resets[k - 1] : since;
    let fEnd = null;
    if (!channelView && !w.exhausted) {
      if (w.forecast_exhausted_at) {
        const t = Date.parse(w.forecast_exhausted_at) / 1000;
        fEnd = t <= horizon ? [t, w.limit] : [horizon, used + (w.limit - used) * (horizon - now) / (t - now)];
      } else {
        const look = Math.min(3 * 3600, now - periodStart);
        let recent = 0;
        for (const b of bk) {
          if (b.period !== k || b.e <= now - look) continue;
          recent += b.units * Math.min(1, (b.e - (now - look)) / Math.max(1, b.e - b.s));
        }
        const rate = look >= 300 ? recent / look : 0;
        if (rate > 0) {
          const end = Math.min(next, horizon);
          const hit = now + (w.limit - used) / rate;
          fEnd = hit < end ? [hit, w.limit] : [end, used + rate * (end - now)];
        }
      }
    }
    if (fEnd) xs.add(fEnd[0]);
    if (next <= horizon) xs.add(next);
    const x = [...xs].filter((t) => t >= since).sort((p, q) => p - q);
    const xmax = Math.max(now, fEnd ? fEnd[0] : now, next <= horizon ? next : now);

    const data = [x, x.map((t) => value(t, null))];
    const fmtV = (_u, v) => (v == null ? '—' : fmtNum(Math.round(v)));
    const series = [{ label: channelView ? u.channel : 'all channels', stroke: color(0), fill: cssVar('--s1-fill'), width: 2, points: { show: false }, value: fmtV }];
    if (!channelView && (names.length > 1 || (names.length === 1 && names[0] !== ''))) {
      names.forEach((n, i) => {
        data.push(x.map((t) => value(t, n)));
        series.push({ label: n || '(no channel)', stroke: color(i + 1), width: 1.5, points: { show: false }, value: fmtV });
      });
    }
    data.push(x.map(() => w.limit));
    series.push({ label: 'limit', stroke: cssVar('--bad'), width: 1.5, dash: [6, 4], points: { show: false }, value: () => fmtNum(w.limit) });
    if (fEnd) {
      data.push(x.map((t) => (t === now ? used : t === fEnd[0] ? fEnd[1] : null)));
      series.push({ label: 'forecast', stroke: cssVar('--warn'), width: 2, dash: [3, 4], spanGaps: true, points: { show: true, size: 5 }, value: fmtV });
    }
    const markers = resets.map((t) => ({ t, color: cssVar('--muted'), label: 'reset', row: 0 }));
    markers.push({ t: now, color: cssVar('--accent'), dash: true, label: 'now', row: 1 });
    if (next <= horizon) markers.push({ t: next, color: cssVar('--ok'), dash: true, label: 'next reset', row: 2 });
    const total = pts.reduce((s, p) => s + p.units, 0);
    return { data, series, markers, xmin: since, xmax, ymax: w.limit, total };
  }

  // bucketChart is units per hour or day, per channel and in all, with the
  // limit of window w (when given) as a line.
  function bucketChart(a, pts, step, since, now, w) {
    const color = (i) => cssVar(PALETTE[i % PALETTE.length]);
    // The range's ends are points too (with no bar), so that the limit
    // line spans the chart.
    const starts = [...new Set([since, now, ...pts.map((p) => Date.parse(p.start) / 1000)])].sort((x, y) => x - y);
    const names = [...new Set(pts.map((p) => p.channel))].sort();
    const idx = new Map(starts.map((s, i) => [s, i]));
    const total = starts.map(() => null);
    const per = names.map(() => starts.map(() => null));
    for (const p of pts) {
      const i = idx.get(Date.parse(p.start) / 1000);
      total[i] = (total[i] || 0) + p.units;
      const j = names.indexOf(p.channel);
      per[j][i] = (per[j][i] || 0) + p.units;
    }
    const series = [{ label: 'all channels', stroke: color(0), fill: cssVar('--s1-fill'), width: 1, paths: uPlot.paths.bars({ size: [0.7, 60], align: 1 }), points: { show: false }, value: (_u, v) => (v == null ? '—' : fmtNum(v)) }];
    const data = [starts, total];
    if (names.length > 1) {
      names.forEach((n, i) => {
        data.push(per[i]);
        series.push({ label: n || '(no channel)', stroke: color(i + 1), width: 2, points: { show: true, size: 5 }, value: (_u, v) => (v == null ? '—' : fmtNum(v)) });
      });
    }
    if (w) {
      data.push(starts.map(() => w.limit));
      series.push({ label: `${w.name} limit`, stroke: cssVar('--bad'), width: 1.5, dash: [6, 4], points: { show: false }, value: () => fmtNum(w.limit) });
    }
    return {
      data, series, markers: [{ t: now, color: cssVar('--accent'), dash: true, label: 'now', row: 0 }], xmin: since, xmax: now + step,
      ymax: w ? w.limit : 0, total: total.reduce((s, v) => s + (v || 0), 0), caption: ` — units per ${step >= 86400 ? 'day' : 'hour'}`,
    };
  }

  function setupUsage() {
    for (const id of ['#usage-api', '#usage-channel', '#usage-range']) $(id).addEventListener('change', () => loadUsage());
    $('#usage-mode').addEventListener('change', () => { if (state.usage) drawCharts(); });
    $('#usage-by').addEventListener('change', () => {
      // A day resolution over a day or two is a point or two: widen the range.
      if ($('#usage-by').value === 'day' && rangeSeconds($('#usage-range').value) < 7 * 86400) $('#usage-range').value = '30d';
      loadUsage();
    });
    let w = 0;
    new ResizeObserver((entries) => {
      const nw = Math.round(entries[0].contentRect.width);
      if (Math.abs(nw - w) < 20) return;
      w = nw;
      for (const c of Object.values(state.charts)) {
        const pw = Math.max(280, c.root.parentElement.clientWidth);
        c.setSize({ width: pw, height: pw < 500 ? 220 : 280 });
      }
    }).observe($('#charts'));
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => { if (state.usage && currentTab() === 'usage') drawCharts(); });
  }

  // ---------- start ----------

  async function detectRun() {
    try {
      const doc = await api('GET', '/openapi.json');
      const p = doc && doc.paths && doc.paths[RUN_PATH];
      state.runSupported = !!(p && p.post);
      if (state.status) render();
    } catch { /* no description: no run button */ }
  }

  // zoneNote says which zone the times are in: the browser's, while the
  // reset rules name the daemon's.
  function zoneNote() {
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
    const daemon = document.body.dataset.zone;
    $('#zone-note').textContent = daemon && daemon !== mine
      ? `Times are in your time zone (${mine}); the daemon's zone, for rules without one, is ${daemon}.`
      : `Times are in your time zone (${mine}).`;
  }

  function start() {
    zoneNote();
    setupTabs();
    setupChannels();
    setupActions();
    setupEvents();
    setupUsage();
    tokenChanged.call(null);
    showTab(location.hash.slice(1) || 'overview');
    detectRun();
    setInterval(tick, 1000);
    // Belt and braces: a full refresh every minute even if the stream is quiet.
    setInterval(() => scheduleRefresh(0), 60000);
  }

  // For tests and the curious: the state, the charts, and a refresh.
  window.quotadDashboard = { state, get charts() { return state.charts; }, refresh: refreshStatus, render };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
