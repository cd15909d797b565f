// Small DOM helpers: element creation without innerHTML, and the toast with an action.

/** Creates an element: h('button', { class: 'btn', onclick }, 'Text', child). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child != null && child !== false) element.append(child);
  }
  return element;
}

export const byId = (id) => document.getElementById(id);

let toastTimer = null;
let toastAction = null;

/** Shows a message with an optional action button (e.g. Undo) for `ms` milliseconds. */
export function toast(text, { action, onAction, onExpire, ms = 6000 } = {}) {
  const box = byId('toast');
  const button = byId('toast-action');
  finishToast(false);
  byId('toast-text').textContent = text;
  button.hidden = !action;
  button.textContent = action ?? '';
  toastAction = { onAction, onExpire };
  box.hidden = false;
  toastTimer = setTimeout(() => finishToast(false), ms);
}

function finishToast(acted) {
  clearTimeout(toastTimer);
  const pending = toastAction;
  toastAction = null;
  byId('toast').hidden = true;
  if (!pending) return;
  if (acted) pending.onAction?.();
  else pending.onExpire?.();
}

export function initToast() {
  byId('toast-action').addEventListener('click', () => finishToast(true));
}
