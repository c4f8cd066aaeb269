// Scheduled commands dashboard: the browser side. Plain JavaScript with no dependency and no build
// step; it talks to the JSON API next to it (api/...) and redraws only what changed, so the periodic
// refresh never flickers. Routes live in the hash: #/ (overview), #/entries?..., #/entry/<id>,
// #/recurring.

const STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled', 'expired'];
const REQUEUEABLE = ['failed', 'expired', 'cancelled'];
const REFRESH = Number(document.body.dataset.refresh) || 3000;
const main = document.getElementById('main');
const flashBox = document.getElementById('flash');
let session = { access: 'none', csrfToken: '' };
let view = null; // { refresh(): Promise<void> } of the page on screen
let busy = false;

// ---- small DOM helpers ----------------------------------------------------------------------

/** Creates an element; `attrs` sets attributes, `on*` functions become listeners, children append. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Creates an SVG element. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replaces `box`'s content with `build(data)`, only when `data` changed since the last call. */
function update(box, data, build) {
  const json = JSON.stringify(data);
  if (box.dataset.json === json) return;
  box.dataset.json = json;
  box.replaceChildren(build(data));
}

const pad = (n) => String(n).padStart(2, '0');
function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function duration(ms) {
  if (ms < 1000) return `${ms} ms`;
  const sec = Math.round(ms / 1000);
  if (sec < 120) return `${sec} s`;
  if (sec < 7200) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}
/** Puts the page's parts (leaving out the false ones) into <main>. */
const show = (...parts) => main.replaceChildren(...parts.filter(Boolean));
const badge = (status) => h('span', { class: `badge s-${status}`, text: status });
const canAct = () => session.access === 'all';

function flash(message, bad = false) {
  flashBox.textContent = message;
  flashBox.className = bad ? 'flash bad' : 'flash';
  flashBox.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => (flashBox.hidden = true), 6000);
}

// ---- API ------------------------------------------------------------------------------------

async function call(path, init = {}) {
  const response = await fetch(`api/${path}`, {
    credentials: 'same-origin',
    ...init,
    headers: { accept: 'application/json', ...(init.headers || {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${response.status} ${response.statusText}`);
  return body;
}
const get = (path) => call(path);

/** Sends an action with the CSRF token, then tells the outcome and refreshes the page. */
async function act(path, body, done) {
  try {
    const result = await call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
      body: JSON.stringify(body || {}),
    });
    flash(done(result));
  } catch (error) {
    flash(error.message, true);
  }
  await refresh();
}

// ---- overview -------------------------------------------------------------------------------

function chart(title, series, label) {
  const n = series.completed.length;
  const max = Math.max(1, ...series.completed.map((c, i) => c + series.failed[i]));
  const W = 600,
    H = 150,
    top = 14,
    bottom = 20,
    left = 30;
  const bw = (W - left) / n;
  const y = (v) => ((H - top - bottom) * v) / max;
  const bars = [];
  series.completed.forEach((c, i) => {
    const f = series.failed[i];
    const x = left + i * bw + 0.5;
    if (c)
      bars.push(
        s('rect', {
          class: 'c',
          x,
          width: Math.max(1, bw - 1),
          y: H - bottom - y(c),
          height: y(c),
        }),
      );
    if (f)
      bars.push(
        s('rect', {
          class: 'f',
          x,
          width: Math.max(1, bw - 1),
          y: H - bottom - y(c) - y(f),
          height: y(f),
        }),
      );
  });
  const sum = (a) => a.reduce((x, v) => x + v, 0);
  const text = `${title}: ${sum(series.completed)} completed, ${sum(series.failed)} failed attempts`;
  const end = new Date(new Date(series.from).getTime() + n * series.bucketMs);
  return h(
    'section',
    { class: 'panel' },
    h('h2', { text: title }),
    s(
      'svg',
      {
        class: 'chart',
        viewBox: `0 0 ${W} ${H}`,
        role: 'img',
        'aria-label': text,
        preserveAspectRatio: 'none',
      },
      s('line', { class: 'axis', x1: left, x2: W, y1: H - bottom, y2: H - bottom }),
      s('text', { x: 0, y: top }, String(max)),
      s('text', { x: 0, y: H - bottom }, '0'),
      s('text', { x: left, y: H - 4 }, label(new Date(series.from))),
      s('text', { x: W, y: H - 4, 'text-anchor': 'end' }, label(end)),
      ...bars,
    ),
    h(
      'div',
      { class: 'legend' },
      h('span', {}, h('span', { class: 'sw c' }), `${sum(series.completed)} completed`),
      h('span', {}, h('span', { class: 'sw f' }), `${sum(series.failed)} failed attempts`),
    ),
  );
}

/** A count as shown: grouped digits, "≈ " before an estimate, "not counted" for null. */
function figure(n, estimated) {
  if (n === null || n === undefined) return 'not counted';
  const text = Number(n).toLocaleString('en-US');
  return estimated ? `≈ ${text}` : text;
}

function overviewBody(o) {
  const approx = new Set(o.approximate ?? []);
  const cards = h(
    'div',
    { class: 'cards' },
    h(
      'a',
      { class: 'card', href: '#/entries' },
      h('div', { class: 'n', text: figure(o.total, approx.size > 0) }),
      h('div', { class: 'l', text: 'total' }),
    ),
    STATUSES.map((st) =>
      h(
        'a',
        { class: 'card', href: `#/entries?status=${st}`, 'data-status': st },
        h('div', {
          class: `n s-${st}`,
          text: figure(o.counts[st], approx.has(st)),
          ...(approx.has(st) ? { title: 'an estimate: too many to count on every refresh' } : {}),
        }),
        h('div', { class: 'l', text: st }),
      ),
    ),
  );
  const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const day = (d) => `${pad(d.getDate())}/${pad(d.getMonth() + 1)} ${pad(d.getHours())}h`;
  const facts = h(
    'section',
    { class: 'panel' },
    h('h2', { text: 'Backlog' }),
    h(
      'dl',
      { class: 'facts' },
      h('dt', { text: 'Due now' }),
      h('dd', { id: 'due-now', text: figure(o.dueNow) }),
      h('dt', { text: 'Waiting for a retry' }),
      h('dd', { text: figure(o.waitingForRetry) }),
      h('dt', { text: 'Current lateness' }),
      h('dd', { id: 'lateness', text: o.latenessMs ? duration(o.latenessMs) : 'none' }),
      h('dt', { text: 'Oldest overdue' }),
      h(
        'dd',
        {},
        o.oldestOverdue
          ? h(
              'a',
              { href: `#/entry/${o.oldestOverdue.id}`, class: 'mono' },
              `${o.oldestOverdue.commandType} · due ${when(o.oldestOverdue.scheduledFor)}`,
            )
          : 'none',
      ),
    ),
  );
  return h(
    'div',
    {},
    cards,
    h(
      'div',
      { class: 'grid2' },
      chart('Last hour (per minute)', o.throughput.hour, hhmm),
      chart('Last day (per hour)', o.throughput.day, day),
    ),
    facts,
    h('p', {
      class: 'muted',
      text: `Throughput counted by this instance since ${when(o.throughput.since)}.`,
    }),
  );
}

function overviewPage() {
  const box = h('div');
  show(h('h1', { text: 'Overview' }), box);
  return { refresh: async () => update(box, await get('overview'), overviewBody) };
}

// ---- entries --------------------------------------------------------------------------------

function entriesRows(page) {
  if (page.items.length === 0)
    return h('tr', {}, h('td', { colspan: 6, class: 'muted', text: 'No entries match.' }));
  const frag = document.createDocumentFragment();
  for (const e of page.items) {
    frag.append(
      h(
        'tr',
        { 'data-id': e.id },
        h(
          'td',
          {},
          h('a', {
            class: 'mono',
            href: `#/entry/${e.id}`,
            text: e.id.slice(0, 13) + '…',
            title: e.id,
          }),
        ),
        h('td', { text: e.commandType }),
        h('td', {}, badge(e.status)),
        h('td', { text: when(e.scheduledFor) }),
        h('td', { text: `${e.attempts} (${e.retryCount}/${e.maxRetries} retries)` }),
        h('td', { class: 'err', text: e.error || '', title: e.error || undefined }),
      ),
    );
  }
  return frag;
}

function entriesPage(params) {
  const filter = {};
  for (const k of ['status', 'commandType', 'correlationId', 'recurringName', 'order', 'cursor']) {
    if (params.get(k)) filter[k] = params.get(k);
  }
  const go = (next) => {
    const q = new URLSearchParams(Object.entries(next).filter(([, v]) => v));
    location.hash = `#/entries${q.size ? '?' + q : ''}`;
  };
  const field = (name, label, input) => h('label', {}, label, input);
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '', text: 'any' }),
    STATUSES.map((st) => h('option', { value: st, text: st, selected: filter.status === st })),
  );
  const type = h('input', {
    name: 'commandType',
    value: filter.commandType || '',
    placeholder: 'e.g. send-email',
  });
  const corr = h('input', { name: 'correlationId', value: filter.correlationId || '' });
  const recurring = h('input', { name: 'recurringName', value: filter.recurringName || '' });
  const order = h(
    'select',
    { name: 'order' },
    h('option', { value: 'desc', text: 'newest first' }),
    h('option', { value: 'asc', text: 'oldest first', selected: filter.order === 'asc' }),
  );
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter entries',
      onsubmit: (ev) => {
        ev.preventDefault();
        go({
          status: status.value,
          commandType: type.value.trim(),
          correlationId: corr.value.trim(),
          recurringName: recurring.value.trim(),
          order: order.value,
        });
      },
    },
    field('status', 'Status', status),
    field('type', 'Command type', type),
    field('corr', 'Correlation id', corr),
    field('recurring', 'Recurring schedule', recurring),
    field('order', 'Order', order),
    h('button', { type: 'submit', text: 'Apply' }),
  );
  const lookupInput = h('input', { name: 'id', placeholder: 'entry id', size: 38, class: 'mono' });
  const lookup = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Find an entry by id',
      onsubmit: (ev) => {
        ev.preventDefault();
        if (lookupInput.value.trim())
          location.hash = `#/entry/${encodeURIComponent(lookupInput.value.trim())}`;
      },
    },
    field('lookup', 'Look up by id', lookupInput),
    h('button', { type: 'submit', class: 'ghost', text: 'Open' }),
  );
  const keyInput = h('input', { name: 'idempotencyKey', placeholder: 'idempotency key' });
  const keyLookup = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Find the live entry holding an idempotency key',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const key = keyInput.value.trim();
        if (!key) return;
        try {
          const entry = await get(`lookup?${new URLSearchParams({ idempotencyKey: key })}`);
          location.hash = `#/entry/${encodeURIComponent(entry.id)}`;
        } catch (error) {
          flash(error.message, true);
        }
      },
    },
    field('key', 'Look up by idempotency key', keyInput),
    h('button', { type: 'submit', class: 'ghost', text: 'Open' }),
  );

  const tbody = h('tbody');
  const pager = h('div', { class: 'pager' });
  const bulk = canAct() ? bulkActions(filter) : null;
  show(
    h('h1', { text: 'Entries' }),
    h('section', { class: 'panel' }, form, h('div', { class: 'row' }, lookup, keyLookup)),
    bulk,
    h(
      'section',
      { class: 'panel' },
      h(
        'table',
        { 'aria-label': 'Entries' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Id', 'Command', 'Status', 'Scheduled for', 'Attempts', 'Error'].map((t) =>
              h('th', { scope: 'col', text: t }),
            ),
          ),
        ),
        tbody,
      ),
      pager,
    ),
  );
  const query = new URLSearchParams(Object.entries(filter)).toString();
  return {
    refresh: async () => {
      const page = await get(`entries${query ? '?' + query : ''}`);
      update(tbody, page, entriesRows);
      update(pager, { next: page.nextCursor, first: !!filter.cursor }, ({ next, first }) => {
        const frag = document.createDocumentFragment();
        frag.append(
          h('button', {
            type: 'button',
            class: 'ghost',
            disabled: !first,
            text: 'First page',
            onclick: () => go({ ...filter, cursor: '' }),
          }),
        );
        frag.append(
          h('button', {
            type: 'button',
            class: 'ghost',
            disabled: !next,
            text: 'Next page',
            onclick: () => go({ ...filter, cursor: next }),
          }),
        );
        return frag;
      });
    },
  };
}

function bulkActions(filter) {
  const olderThan = h('input', { type: 'datetime-local', name: 'olderThan', step: 1 });
  const { commandType, correlationId } = filter;
  const what =
    [commandType && `command ${commandType}`, correlationId && `correlation ${correlationId}`]
      .filter(Boolean)
      .join(', ') || 'any command';
  return h(
    'section',
    { class: 'panel', 'aria-label': 'Bulk actions' },
    h('h2', { text: 'Bulk actions' }),
    h(
      'div',
      { class: 'actions' },
      h('button', {
        type: 'button',
        id: 'retry-failed',
        text: `Retry all failed (${what})`,
        onclick: () => {
          if (confirm(`Retry every failed entry matching ${what}?`)) {
            act(
              'bulk/retry-failed',
              { commandType, correlationId },
              (r) => `${r.requeued} entries requeued`,
            );
          }
        },
      }),
      h('label', {}, 'Finished before', olderThan),
      h('button', {
        type: 'button',
        class: 'danger',
        id: 'purge',
        text: 'Purge finished',
        onclick: () => {
          if (!olderThan.value) return flash('Choose a date and time to purge before', true);
          const at = new Date(olderThan.value).toISOString();
          const statuses =
            filter.status && filter.status !== 'pending' && filter.status !== 'processing'
              ? [filter.status]
              : undefined;
          if (
            confirm(
              `Delete ${statuses ? statuses[0] : 'every finished'} entry that finished before ${when(at)}?`,
            )
          ) {
            act('bulk/purge', { olderThan: at, statuses }, (r) => `${r.deleted} entries deleted`);
          }
        },
      }),
    ),
  );
}

// ---- entry detail ---------------------------------------------------------------------------

const json = (value) =>
  h(
    'pre',
    { class: 'mono' },
    value === null || value === undefined ? '—' : JSON.stringify(value, null, 2),
  );

function entryFacts(e) {
  const rows = [
    ['Status', badge(e.status)],
    ['Command type', e.commandType],
    ['Scheduled for', when(e.scheduledFor)],
    ['Created', when(e.createdAt)],
    ['Started', when(e.startedAt)],
    ['Finished', when(e.completedAt)],
    ['Expires', when(e.expiresAt)],
    ['Attempts', String(e.attempts)],
    ['Retries', `${e.retryCount} of ${e.maxRetries}`],
    ['Priority', String(e.priority)],
    ['Correlation id', e.correlationId || '—'],
    [
      'Recurring schedule',
      e.recurringName
        ? h('a', {
            id: 'recurring-link',
            href: `#/entries?${new URLSearchParams({ recurringName: e.recurringName })}`,
            text: e.recurringName,
            title: 'Every occurrence of this schedule',
          })
        : '—',
    ],
    ['Idempotency key', e.idempotencyKey || '—'],
    ['Lease holder', e.lockedBy ? `${e.lockedBy} until ${when(e.lockedUntil)}` : '—'],
  ];
  return h(
    'div',
    {},
    h(
      'section',
      { class: 'panel' },
      h(
        'dl',
        { class: 'facts' },
        rows.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]),
      ),
    ),
    e.errorMessage
      ? h(
          'section',
          { class: 'panel' },
          h('h2', { text: 'Error' }),
          h('pre', { class: 'err mono', text: e.errorMessage }),
        )
      : null,
    h(
      'div',
      { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', { text: 'Payload' }), json(e.payload)),
      h('section', { class: 'panel' }, h('h2', { text: 'Result' }), json(e.result)),
      h('section', { class: 'panel' }, h('h2', { text: 'Metadata' }), json(e.metadata)),
    ),
  );
}

function entryActions({ id, status }) {
  const box = h('div', { class: 'actions' });
  const path = `entries/${encodeURIComponent(id)}`;
  if (REQUEUEABLE.includes(status)) {
    box.append(
      h('button', {
        type: 'button',
        id: 'retry',
        text: 'Retry',
        onclick: () =>
          act(`${path}/retry`, {}, () => 'Requeued: it runs as soon as a worker is free'),
      }),
    );
  }
  if (status === 'pending') {
    const at = h('input', { type: 'datetime-local', name: 'scheduledFor', step: 1 });
    box.append(
      h('button', {
        type: 'button',
        id: 'run-now',
        text: 'Run now',
        onclick: () => act(`${path}/run-now`, {}, () => 'Due now'),
      }),
      h('label', {}, 'New time', at),
      h('button', {
        type: 'button',
        class: 'ghost',
        id: 'reschedule',
        text: 'Reschedule',
        onclick: () => {
          if (!at.value) return flash('Choose a date and time', true);
          act(
            `${path}/reschedule`,
            { scheduledFor: new Date(at.value).toISOString() },
            () => `Rescheduled for ${when(new Date(at.value).toISOString())}`,
          );
        },
      }),
      h('button', {
        type: 'button',
        class: 'danger',
        id: 'cancel',
        text: 'Cancel',
        onclick: () => {
          if (confirm('Cancel this command?')) act(`${path}/cancel`, {}, () => 'Cancelled');
        },
      }),
    );
  }
  if (!box.childElementCount)
    box.append(h('span', { class: 'muted', text: `No action for a ${status} command.` }));
  return h(
    'section',
    { class: 'panel', 'aria-label': 'Actions' },
    h('h2', { text: 'Actions' }),
    box,
  );
}

function entryPage(id) {
  const facts = h('div');
  const actions = h('div');
  show(h('h1', {}, 'Entry ', h('span', { class: 'mono', text: id })), canAct() && actions, facts);
  return {
    refresh: async () => {
      const e = await get(`entries/${encodeURIComponent(id)}`);
      update(facts, e, entryFacts);
      update(actions, { id: e.id, status: e.status }, entryActions);
    },
  };
}

// ---- recurring schedules --------------------------------------------------------------------

const occurrencesOf = (name) => `#/entries?${new URLSearchParams({ recurringName: name })}`;

function recurringActions(r) {
  const path = `recurring/${encodeURIComponent(r.name)}`;
  return h(
    'div',
    { class: 'actions' },
    r.paused
      ? h('button', {
          type: 'button',
          'data-action': 'resume',
          text: 'Resume',
          onclick: () => act(`${path}/resume`, {}, () => `${r.name} resumed`),
        })
      : h('button', {
          type: 'button',
          class: 'ghost',
          'data-action': 'pause',
          text: 'Pause',
          onclick: () => act(`${path}/pause`, {}, () => `${r.name} paused`),
        }),
    h('button', {
      type: 'button',
      class: 'ghost',
      'data-action': 'trigger',
      text: 'Trigger now',
      onclick: () =>
        act(`${path}/trigger`, {}, (res) => `${r.name} triggered: occurrence ${res.id}`),
    }),
  );
}

function recurringRows(page) {
  const cols = canAct() ? 7 : 6;
  if (!page.supported)
    return h(
      'tr',
      {},
      h('td', { colspan: cols, class: 'muted', text: 'This store keeps no recurring schedules.' }),
    );
  if (page.schedules.length === 0)
    return h('tr', {}, h('td', { colspan: cols, class: 'muted', text: 'No recurring schedules.' }));
  const frag = document.createDocumentFragment();
  for (const r of page.schedules) {
    const last = r.lastOccurrence;
    frag.append(
      h(
        'tr',
        { 'data-name': r.name },
        h(
          'td',
          {},
          h('a', { href: occurrencesOf(r.name), text: r.name, title: 'Its occurrences' }),
        ),
        h('td', { text: r.commandType }),
        h('td', {
          class: 'mono',
          text: r.cron ? `cron ${r.cron} (${r.timezone})` : `every ${duration(r.every)}`,
        }),
        h(
          'td',
          { class: 'state' },
          r.paused
            ? h('span', { class: 'badge s-cancelled', text: 'paused' })
            : h('span', { class: 'badge s-completed', text: 'active' }),
        ),
        h(
          'td',
          { class: 'next' },
          r.nextRuns.length ? r.nextRuns.map((t) => h('div', { text: when(t) })) : '—',
        ),
        h(
          'td',
          {},
          last
            ? h(
                'span',
                {},
                badge(last.status),
                ' ',
                h('a', {
                  href: `#/entry/${last.id}`,
                  class: 'mono',
                  text: when(last.scheduledFor),
                }),
              )
            : '—',
        ),
        canAct() ? h('td', {}, recurringActions(r)) : null,
      ),
    );
  }
  return frag;
}

function recurringPage() {
  const tbody = h('tbody');
  const heads = ['Name', 'Command', 'Timing', 'State', 'Next runs', 'Last occurrence'];
  if (canAct()) heads.push('Actions');
  show(
    h('h1', { text: 'Recurring schedules' }),
    h(
      'section',
      { class: 'panel' },
      h(
        'table',
        { 'aria-label': 'Recurring schedules' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            heads.map((t) => h('th', { scope: 'col', text: t })),
          ),
        ),
        tbody,
      ),
    ),
  );
  return { refresh: async () => update(tbody, await get('recurring'), recurringRows) };
}

// ---- routing, refresh, theme ----------------------------------------------------------------

async function refresh() {
  if (!view || busy) return;
  busy = true;
  try {
    await view.refresh();
  } catch (error) {
    flash(error.message, true);
  } finally {
    busy = false;
  }
}

function route() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  let nav = 'overview';
  if (parts[0] === 'entries') {
    nav = 'entries';
    view = entriesPage(new URLSearchParams(query));
  } else if (parts[0] === 'recurring') {
    nav = 'recurring';
    view = recurringPage();
  } else if (parts[0] === 'entry' && parts[1]) {
    nav = 'entries';
    view = entryPage(decodeURIComponent(parts[1]));
  } else {
    view = overviewPage();
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  busy = false;
  main.focus({ preventScroll: true });
  refresh();
}

function setupTheme() {
  const button = document.getElementById('theme');
  const saved = localStorage.getItem('scd-theme');
  if (saved) document.documentElement.dataset.theme = saved;
  const current = () =>
    document.documentElement.dataset.theme ||
    (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const label = () => (button.textContent = current() === 'dark' ? 'Light mode' : 'Dark mode');
  label();
  button.addEventListener('click', () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('scd-theme', next);
    label();
  });
}

async function start() {
  setupTheme();
  try {
    session = await get('session');
  } catch (error) {
    show(h('p', { class: 'flash bad', text: `No access: ${error.message}` }));
    return;
  }
  document.getElementById('access').textContent =
    session.access === 'all' ? 'full access' : 'read-only';
  window.addEventListener('hashchange', route);
  route();
  setInterval(() => {
    if (!document.hidden) refresh();
  }, session.refreshInterval || REFRESH);
}

start();
