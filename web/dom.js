// Small DOM helpers. Text always goes in as text nodes (never innerHTML), so nothing a server or
// a user typed can become markup.

/** h('button', {class: 'x', onclick: fn}, 'text', child, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let uid = 0;
/** A unique id for label/for pairs. */
export const nextId = (p = 'f') => `${p}-${++uid}`;

/** A labelled field: {label, input (element), hint?, id?} -> div.field */
export function field(label, input, hint) {
  const id = input.id || nextId();
  input.id = id;
  const parts = [h('label', { for: id }, label), input];
  if (hint) {
    const hid = `${id}-hint`;
    input.setAttribute('aria-describedby', hid);
    parts.push(h('p', { class: 'hint', id: hid }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

/** A write-only secret input: never pre-filled; "set" shown beside it when the server has one. */
export function secretInput(name, { isSet = false, required = false } = {}) {
  return h('input', {
    type: 'password', name, autocomplete: 'new-password', spellcheck: 'false',
    placeholder: isSet ? 'set — leave blank to keep' : '', required: required && !isSet,
    'data-secret': '1',
  });
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** An error box for an API error ({error: {code, message, field}}) or an Error. */
export function errorBox(err) {
  const e = err?.error || err;
  const msg = e?.message || String(err);
  return h('div', { class: 'alert error', role: 'alert' },
    h('strong', {}, 'Error: '), msg, e?.field ? h('span', { class: 'muted' }, ` (field: ${e.field})`) : null);
}

export function emptyState(title, text, action) {
  return h('div', { class: 'empty' }, h('h2', {}, title), h('p', {}, text), action || null);
}

export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 3500);
}

/** Sets the page: a heading (focused for screen readers and keyboards) and the content. */
export function page(title, ...content) {
  const main = clear(document.getElementById('main'));
  const h1 = h('h1', { tabindex: '-1' }, title);
  main.append(h1, ...content.flat().filter(Boolean));
  document.title = `${title} · connhub`;
  h1.focus();
  return main;
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

/** A slug suggested from a name: lower-case [a-z0-9_]. */
export function slugify(name) {
  return String(name).toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64);
}
