// The fields of each auth type (README: public fields and write-only secret ones).
import { h, field, secretInput } from './dom.js';
import { AUTH_LABELS } from './hub.js';

export const AUTH_TYPES = ['none', 'bearer', 'basic', 'api_key_header', 'api_key_query', 'api_key_cookie'];

/** Auth editor: a type select and the type's fields. current: the connection's auth view (or
 * null). value() gives the auth object to send, leaving out secret fields left blank (the server
 * keeps them). */
export function authEditor(current, { types = AUTH_TYPES } = {}) {
  const setList = new Set(current?.secrets_set || []);
  const sel = h('select', { name: 'auth_type' }, types.map((t) => h('option', { value: t }, AUTH_LABELS[t] || t)));
  sel.value = current?.type && types.includes(current.type) ? current.type : types[0];
  const box = h('div', { class: 'auth-fields' });
  let inputs = {};
  const draw = () => {
    box.replaceChildren();
    inputs = {};
    const same = current && sel.value === current.type;
    const isSet = (f) => same && setList.has(f);
    const t = sel.value;
    const setNote = (f) => (isSet(f) ? 'Set. Leave blank to keep it; type a new value to replace it.' : 'Write-only: it is stored sealed and never shown again.');
    if (t === 'bearer') {
      inputs.token = secretInput('token', { isSet: isSet('token'), required: true });
      box.append(field('Token', inputs.token, setNote('token')));
    } else if (t === 'basic') {
      inputs.username = secretInput('username', { isSet: isSet('username'), required: true });
      inputs.password = secretInput('password', { isSet: isSet('password'), required: true });
      box.append(field('User name', inputs.username, setNote('username')), field('Password', inputs.password, setNote('password')));
    } else if (t === 'google_service_account') {
      inputs.subject = h('input', { name: 'subject', type: 'email', value: same ? current.subject || '' : '', required: true, autocomplete: 'off' });
      inputs.tiers = h('input', { name: 'tiers', value: same ? (current.tiers || []).join(', ') : 'send', required: true, autocomplete: 'off' });
      inputs.service_account = h('textarea', { name: 'service_account', rows: 4, class: 'mono', spellcheck: 'false', autocomplete: 'off',
        required: !isSet('service_account'), placeholder: isSet('service_account') ? 'set — leave blank to keep' : '{"type": "service_account", …}', 'data-secret': '1' });
      box.append(field('Act for (user e-mail)', inputs.subject, 'Domain-wide delegation: the Workspace user the service account acts for.'),
        field('Tiers', inputs.tiers, 'Comma-separated: send, read, full.'),
        field('Service account key (JSON)', inputs.service_account, setNote('service_account')));
    } else if (t.startsWith('api_key_')) {
      const where = t.slice(8);
      inputs.name = h('input', { name: 'key_name', value: same ? current.name || '' : '', required: true, autocomplete: 'off' });
      inputs.key = secretInput('key', { isSet: isSet('key'), required: true });
      box.append(field(`${where[0].toUpperCase()}${where.slice(1)} name`, inputs.name), field('Key', inputs.key, setNote('key')));
    }
  };
  sel.addEventListener('change', draw);
  draw();
  return {
    el: h('div', {}, field('Authentication', sel), box),
    value() {
      const a = { type: sel.value };
      for (const [k, inp] of Object.entries(inputs)) {
        if (inp.dataset.secret && inp.value === '') continue;
        a[k] = k === 'tiers' ? inp.value.split(',').map((x) => x.trim()).filter(Boolean) : inp.value;
      }
      return a;
    },
    /** Whether value() differs from the connection's auth cur: another type, a typed secret, or
     * a public field changed (blank secrets are kept by the server). */
    changed(cur) {
      if (!cur || sel.value !== cur.type) return true;
      const a = this.value();
      return Object.entries(a).some(([k, v]) => k !== 'type' &&
        (inputs[k].dataset.secret ? true : JSON.stringify(v) !== JSON.stringify(cur[k] ?? (k === 'tiers' ? [] : ''))));
    },
    /** Empties the secret inputs (after a save). */
    wipe() {
      for (const inp of Object.values(inputs)) if (inp.dataset.secret) inp.value = '';
    },
  };
}

/** Fulfillment select + participant role. */
export function fulfillmentEditor(current = {}) {
  const sel = h('select', { name: 'fulfillment' },
    h('option', { value: 'static' }, 'static — the credential stored here, shared by every run'),
    h('option', { value: 'caller' }, "caller — the credential of the user who runs it (My accounts)"),
    h('option', { value: 'participant' }, 'participant — collected from a participant of the run'));
  sel.value = current.fulfillment || 'static';
  const role = h('input', { name: 'participant_role', value: current.participant_role || '', placeholder: 'e.g. customer', autocomplete: 'off' });
  const roleField = field('Participant role', role, 'The role of the run participant whose credential is used.');
  const sync = () => { roleField.hidden = sel.value !== 'participant'; role.required = sel.value === 'participant'; };
  sel.addEventListener('change', sync);
  sync();
  return {
    el: h('div', {}, field('Fulfillment', sel, 'Whose credential a call uses.'), roleField),
    value() {
      const v = { fulfillment: sel.value };
      if (sel.value === 'participant') v.participant_role = role.value.trim();
      return v;
    },
  };
}
