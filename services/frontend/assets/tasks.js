// The task panel: filter, add, toggle, edit in place, delete with undo.
import { api, userPath } from './api.js';
import { byId, h, toast } from './dom.js';

const EMPTY = {
  all: 'No tasks yet. Add one above, or ask the assistant.',
  pending: 'Nothing pending. Enjoy the quiet.',
  completed: 'Nothing completed yet.',
};

let user = null;
let tasks = [];
let filter = 'all';
let editingId = null;
/** Deletions waiting for their undo window to pass: task id -> the task. */
const doomed = new Map();

const list = () => byId('task-list');
const showError = (message) => {
  byId('task-error').textContent = message;
};

function visible() {
  return tasks
    .filter((task) => !doomed.has(task.id))
    .filter((task) => filter === 'all' || (filter === 'completed') === task.completed)
    .sort((a, b) => Number(a.completed) - Number(b.completed) || b.id - a.id);
}

function render() {
  const shown = visible();
  const live = tasks.filter((task) => !doomed.has(task.id));
  const done = live.filter((task) => task.completed).length;
  byId('task-summary').textContent = live.length ? `${live.length - done} pending · ${done} done` : '';
  list().replaceChildren(...shown.map((task) => (task.id === editingId ? editor(task) : row(task))));
  const empty = byId('task-empty');
  empty.hidden = shown.length > 0;
  empty.textContent = EMPTY[filter];
}

function row(task) {
  const checkboxId = `task-${task.id}`;
  return h(
    'li',
    { class: `task${task.completed ? ' is-done' : ''}`, dataset: { id: task.id } },
    h('input', {
      type: 'checkbox',
      id: checkboxId,
      class: 'task-check',
      checked: task.completed,
      onchange: () => toggle(task),
    }),
    h(
      'div',
      { class: 'task-body' },
      h('label', { for: checkboxId, class: 'task-title' }, task.title),
      task.description && h('p', { class: 'task-desc' }, task.description),
    ),
    h(
      'div',
      { class: 'task-actions' },
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Edit “${task.title}”`, title: 'Edit', onclick: () => startEdit(task) }, '✎'),
      h('button', { type: 'button', class: 'icon-btn icon-danger', 'aria-label': `Delete “${task.title}”`, title: 'Delete', onclick: () => remove(task) }, '✕'),
    ),
  );
}

function editor(task) {
  const input = h('input', { class: 'task-edit', value: task.title, maxlength: 200, 'aria-label': `New title for “${task.title}”` });
  const save = async () => {
    const title = input.value.trim();
    if (!title) {
      showError('A task needs a title.');
      input.focus();
      return;
    }
    if (title === task.title) return cancel();
    try {
      const updated = await api('PUT', userPath(user.id, `tasks/${task.id}`), { title });
      replace(updated);
      editingId = null;
      showError('');
      render();
      focusRow(task.id, '.icon-btn');
    } catch (error) {
      showError(`Could not rename the task: ${error.message}`);
      input.focus();
    }
  };
  const cancel = () => {
    editingId = null;
    showError('');
    render();
    focusRow(task.id, '.icon-btn');
  };
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      cancel();
    }
  });
  return h(
    'li',
    { class: 'task is-editing', dataset: { id: task.id } },
    h('form', { class: 'task-edit-form', onsubmit: (event) => { event.preventDefault(); save(); } },
      input,
      h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Save'),
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: cancel }, 'Cancel'),
    ),
  );
}

function focusRow(id, selector) {
  list().querySelector(`[data-id="${id}"] ${selector}`)?.focus();
}

function replace(updated) {
  tasks = tasks.map((task) => (task.id === updated.id ? updated : task));
}

function startEdit(task) {
  editingId = task.id;
  render();
  const input = list().querySelector('.task-edit');
  input?.focus();
  input?.select();
}

async function toggle(task) {
  replace({ ...task, completed: !task.completed });
  render();
  focusRow(task.id, '.task-check');
  try {
    replace(await api('PATCH', userPath(user.id, `tasks/${task.id}/complete`)));
    showError('');
  } catch (error) {
    replace(task);
    showError(`Could not update “${task.title}”: ${error.message}`);
  }
  render();
  focusRow(task.id, '.task-check');
}

function remove(task) {
  const neighbour = visible()[visible().findIndex((t) => t.id === task.id) + 1];
  doomed.set(task.id, task);
  render();
  if (neighbour) focusRow(neighbour.id, '.task-check');
  else byId('task-input').focus();
  toast(`Deleted “${task.title}”`, {
    action: 'Undo',
    onAction: () => {
      doomed.delete(task.id);
      render();
      focusRow(task.id, '.task-check');
    },
    onExpire: () => commitDelete(task.id),
  });
}

async function commitDelete(id, { keepalive = false } = {}) {
  const task = doomed.get(id);
  if (!task) return;
  try {
    await api('DELETE', userPath(user.id, `tasks/${id}`), undefined, { keepalive });
    tasks = tasks.filter((t) => t.id !== id);
  } catch (error) {
    if (error.status !== 404) showError(`Could not delete “${task.title}”: ${error.message}`);
    else tasks = tasks.filter((t) => t.id !== id);
  }
  doomed.delete(id);
  render();
}

async function add(event) {
  event.preventDefault();
  const input = byId('task-input');
  const title = input.value.trim();
  if (!title) {
    showError('Type a title first.');
    input.focus();
    return;
  }
  try {
    const task = await api('POST', userPath(user.id, 'tasks'), { title });
    tasks.push(task);
    input.value = '';
    showError('');
    if (filter === 'completed') setFilter('all');
    render();
  } catch (error) {
    showError(`Could not add the task: ${error.message}`);
  }
  input.focus();
}

function setFilter(next) {
  filter = next;
  for (const button of document.querySelectorAll('.filter')) {
    button.setAttribute('aria-pressed', String(button.dataset.filter === filter));
  }
  render();
}

/** Reloads the list from the server (after a chat turn changed it, for instance). */
export async function refreshTasks() {
  if (!user) return;
  try {
    const result = await api('GET', userPath(user.id, 'tasks?status=all'));
    tasks = Array.isArray(result) ? result : [];
    showError('');
    render();
  } catch (error) {
    if (error.status !== 401) showError(`Could not load your tasks: ${error.message}`);
  }
}

/** Sends deletions still inside their undo window before the page goes away. */
function flushDeletes() {
  for (const id of doomed.keys()) commitDelete(id, { keepalive: true });
}

export function initTasks() {
  byId('task-form').addEventListener('submit', add);
  for (const button of document.querySelectorAll('.filter')) {
    button.addEventListener('click', () => setFilter(button.dataset.filter));
  }
  window.addEventListener('pagehide', flushDeletes);
}

export async function startTasks(signedInUser) {
  user = signedInUser;
  tasks = [];
  editingId = null;
  doomed.clear();
  render();
  await refreshTasks();
}

export function stopTasks() {
  flushDeletes();
  user = null;
}
