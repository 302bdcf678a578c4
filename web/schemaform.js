// A form generated from a JSON Schema object (an operation's input_schema): one labelled input
// per property (text, number, checkbox, select for enums, JSON for objects and arrays).
import { h, field } from './dom.js';

function typeOf(s) {
  const t = Array.isArray(s?.type) ? s.type.find((x) => x !== 'null') : s?.type;
  if (t) return t;
  if (s?.properties) return 'object';
  if (s?.enum) return 'string';
  return 'any';
}

export function schemaForm(schema, { idPrefix = 'in' } = {}) {
  const props = schema?.properties || {};
  const required = new Set(schema?.required || []);
  const getters = [];
  const fields = [];
  for (const [name, s] of Object.entries(props)) {
    if (s?.readOnly) continue;
    const t = typeOf(s);
    const label = `${name}${required.has(name) ? ' (required)' : ''}${t !== 'any' ? ` · ${t}` : ''}`;
    const hint = [s.description, s.example !== undefined ? `e.g. ${JSON.stringify(s.example)}` : null].filter(Boolean).join(' — ') || undefined;
    let input;
    let get;
    const id = `${idPrefix}-${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
    if (Array.isArray(s.enum)) {
      input = h('select', { id, name }, required.has(name) ? null : h('option', { value: '' }, '—'),
        s.enum.map((v) => h('option', { value: JSON.stringify(v) }, String(v))));
      get = () => (input.value === '' ? undefined : JSON.parse(input.value));
    } else if (t === 'boolean') {
      input = h('select', { id, name }, h('option', { value: '' }, '—'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
      get = () => (input.value === '' ? undefined : input.value === 'true');
    } else if (t === 'integer' || t === 'number') {
      input = h('input', { id, name, type: 'number', step: t === 'integer' ? '1' : 'any', required: required.has(name) });
      get = () => (input.value === '' ? undefined : Number(input.value));
    } else if (t === 'object' || t === 'array' || t === 'any') {
      input = h('textarea', { id, name, rows: 3, class: 'mono', spellcheck: 'false', placeholder: t === 'array' ? '[ ]' : t === 'object' ? '{ }' : 'JSON' });
      get = () => {
        if (input.value.trim() === '') return undefined;
        try {
          return JSON.parse(input.value);
        } catch {
          throw new Error(`${name}: not valid JSON`);
        }
      };
    } else {
      input = h('input', { id, name, type: 'text', required: required.has(name), autocomplete: 'off' });
      if (s.default !== undefined) input.placeholder = String(s.default);
      get = () => (input.value === '' ? undefined : input.value);
    }
    fields.push(field(label, input, hint));
    getters.push([name, get]);
  }
  const el = h('div', { class: 'schema-form' }, fields.length ? fields : h('p', { class: 'muted' }, 'This tool takes no input.'));
  return {
    el,
    value() {
      const out = {};
      for (const [name, get] of getters) {
        const v = get();
        if (v !== undefined) out[name] = v;
      }
      return out;
    },
  };
}
