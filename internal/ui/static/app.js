// The shell: a hash router. Each page is an ES module exporting
//   async function render(root, params, ctx) -> optional cleanup()
// loaded on demand with import(), so a page whose file is missing shows
// "page not available" instead of breaking the app.
//
// Hashes: #/search?q=...&from=...&to=..., #/issues?status=unresolved,
// #/issues/SHOP-1 (route "issue", params.id = "SHOP-1"), #/status.

import { showError } from './api.js';

// routes is the one table of pages; the key is the route name.
const routes = {
  search: () => import('./search.js'),
  issues: () => import('./issues.js'),
  issue: () => import('./issue.js'),
  status: () => import('./status.js'),
};

// navRoute maps a route to the top-nav link it lights up.
const navRoute = { search: 'search', issues: 'issues', issue: 'issues', status: 'status' };

const defaultHash = '#/search';

// parseHash splits "#/issues/SHOP-1?x=1" into a route and params.
export function parseHash(hash) {
  const h = (hash || '').replace(/^#\/?/, '');
  const qi = h.indexOf('?');
  const path = qi < 0 ? h : h.slice(0, qi);
  const params = {};
  if (qi >= 0) {
    for (const [k, v] of new URLSearchParams(h.slice(qi + 1))) params[k] = v;
  }
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let route = parts[0] || 'search';
  if (route === 'issues' && parts.length > 1) {
    route = 'issue';
    params.id = parts.slice(1).join('/');
  }
  return { route, params };
}

// buildHash is parseHash's inverse; empty params are left out.
export function buildHash(route, params = {}) {
  const p = { ...params };
  let path = route;
  if (route === 'issue') {
    path = 'issues/' + encodeURIComponent(p.id || '');
    delete p.id;
  }
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, v);
  }
  const s = qs.toString();
  return '#/' + path + (s ? '?' + s : '');
}

let current = null; // { route, cleanup }
let renderToken = 0;
// shownHash is the hash the page on screen stands for; a hashchange or
// popstate to the same hash (both fire on Back) renders nothing.
let shownHash = null;

// ctx is what pages get besides root and params.
const ctx = {
  // navigate opens a page (adds a history entry).
  navigate(route, params) {
    location.hash = buildHash(route, params);
  },
  // setParams records the current page's state in the URL without
  // rendering again; push adds a history entry (Back returns to it).
  setParams(params, { push = false } = {}) {
    const hash = buildHash(current ? current.route : 'search', params);
    shownHash = hash;
    if (hash === location.hash) return;
    if (push) history.pushState(null, '', hash);
    else history.replaceState(null, '', hash);
  },
  buildHash,
};

async function render() {
  if (location.hash === shownHash) return;
  shownHash = location.hash;
  const token = ++renderToken;
  const { route, params } = parseHash(location.hash);
  const root = document.getElementById('page');
  if (current && current.cleanup) {
    try { current.cleanup(); } catch (e) { console.error(e); }
  }
  current = { route, cleanup: null };
  document.documentElement.dataset.ready = '';
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.route === navRoute[route]);
  }
  root.replaceChildren();
  root.dataset.route = route;
  const load = routes[route];
  let mod;
  try {
    if (!load) throw new Error('no such page');
    mod = await load();
  } catch (e) {
    if (token !== renderToken) return;
    const p = document.createElement('div');
    p.className = 'empty';
    p.textContent = `Page "${route}" not available.`;
    root.replaceChildren(p);
    markReady(route);
    return;
  }
  if (token !== renderToken) return;
  try {
    const cleanup = await mod.render(root, params, ctx);
    if (token !== renderToken) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    current.cleanup = typeof cleanup === 'function' ? cleanup : null;
  } catch (e) {
    if (token !== renderToken) return;
    showError(root, e);
  }
  markReady(route);
}

// markReady tells tests and the curious when the page is usable:
// <html data-ready="search"> and window.lcReadyAt (ms since navigation).
function markReady(route) {
  document.documentElement.dataset.ready = route;
  window.lcReadyAt = performance.now();
}

window.addEventListener('hashchange', render);
// pushState entries (a histogram zoom) come back through popstate, and
// not always with a hashchange.
window.addEventListener('popstate', render);
if (!location.hash || location.hash === '#' || location.hash === '#/') {
  history.replaceState(null, '', defaultHash);
}
render();
