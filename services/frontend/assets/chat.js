// The chat panel: the conversation's history, the turn in progress, and what each reply did.
import { api, userPath } from './api.js';
import { byId, h } from './dom.js';
import { session } from './session.js';

const SUGGESTIONS = ['Add a task to buy groceries', "What's pending?", 'Show me all my tasks'];
const CHANGES_TASKS = new Set(['add_task', 'complete_task', 'delete_task', 'update_task']);

let user = null;
let conversationId = null;
let busy = false;
let tasksChanged = () => {};

const messages = () => byId('messages');

function scrollToEnd() {
  const list = messages();
  list.scrollTop = list.scrollHeight;
}

/** Tool outputs may arrive as objects or as JSON text. */
function parsed(value) {
  if (typeof value !== 'string') return value ?? {};
  try {
    return JSON.parse(value);
  } catch {
    return { text: value };
  }
}

/** One line per action a reply took, e.g. "Added “Buy groceries” (#5)". */
function describe(call) {
  const output = parsed(call.output);
  const input = parsed(call.input);
  const title = output.title ?? input.title;
  const named = title ? `“${title}”` : `task #${output.task_id ?? input.task_id ?? '?'}`;
  const id = output.task_id != null && title ? ` (#${output.task_id})` : '';
  if (output.error) return { kind: 'failed', text: `${call.tool.replace('_', ' ')}: ${output.error}` };
  switch (call.tool) {
    case 'add_task':
      return { kind: 'added', text: `Added ${named}${id}` };
    case 'complete_task':
      return { kind: 'completed', text: `Completed ${named}${id}` };
    case 'delete_task':
      return { kind: 'deleted', text: `Deleted ${named}${id}` };
    case 'update_task':
      return { kind: 'updated', text: `Updated ${named}${id}` };
    case 'list_tasks': {
      const count = Array.isArray(output) ? output.length : null;
      const which = input.status && input.status !== 'all' ? `${input.status} ` : '';
      return { kind: 'listed', text: count == null ? 'Looked at your tasks' : `Looked at ${count} ${which}task${count === 1 ? '' : 's'}` };
    }
    default:
      return { kind: 'other', text: `Used ${call.tool}` };
  }
}

function bubble(role, text, toolCalls = [], { fresh = true } = {}) {
  const mine = role === 'user';
  const actions = (toolCalls ?? []).map(describe);
  return h(
    'article',
    { class: `msg ${mine ? 'msg-user' : 'msg-assistant'}${fresh ? ' is-new' : ''}` },
    h('span', { class: 'visually-hidden' }, mine ? 'You said: ' : 'Assistant: '),
    h('p', { class: 'msg-text' }, text),
    actions.length > 0 &&
      h(
        'ul',
        { class: 'actions', 'aria-label': 'What the assistant did' },
        actions.map((action) => h('li', { class: `action action-${action.kind}` }, action.text)),
      ),
  );
}

function welcome() {
  const first = user?.name ? `, ${user.name.split(' ')[0]}` : '';
  return h(
    'div',
    { class: 'welcome' },
    h('p', { class: 'welcome-title' }, `Hi${first}! What needs doing?`),
    h('p', {}, 'Tell me in your own words: I can add, list, complete, rename and delete tasks.'),
    h(
      'div',
      { class: 'suggestions' },
      SUGGESTIONS.map((text) =>
        h('button', { type: 'button', class: 'chip', onclick: () => send(text) }, text),
      ),
    ),
  );
}

function showWelcomeIfEmpty() {
  if (!messages().querySelector('.msg')) messages().replaceChildren(welcome());
}

function setBusy(value) {
  busy = value;
  byId('typing').hidden = !value;
  byId('chat-send').disabled = value;
  messages().setAttribute('aria-busy', String(value));
}

function failure(message, retry) {
  const box = h(
    'div',
    { class: 'msg-error', role: 'alert' },
    h('p', {}, message),
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => { box.remove(); retry(); } }, 'Retry'),
  );
  return box;
}

async function send(text) {
  const message = text.trim();
  if (!message || busy) return;
  messages().querySelector('.welcome')?.remove();
  messages().append(bubble('user', message));
  await runTurn(message);
}

async function runTurn(message) {
  setBusy(true);
  scrollToEnd();
  try {
    const body = conversationId ? { message, conversation_id: conversationId } : { message };
    const reply = await api('POST', userPath(user.id, 'chat'), body);
    conversationId = reply.conversation_id;
    session.rememberConversation(user.id, conversationId);
    messages().append(bubble('assistant', reply.response, reply.tool_calls));
    if ((reply.tool_calls ?? []).some((call) => CHANGES_TASKS.has(call.tool))) tasksChanged();
  } catch (error) {
    if (error.status === 401) return;
    if (error.status === 404 && conversationId) {
      // The conversation is gone (e.g. a fresh database): start a new one and say so.
      conversationId = null;
      session.rememberConversation(user.id, null);
    }
    messages().append(failure(error.message, () => runTurn(message)));
  } finally {
    setBusy(false);
    scrollToEnd();
  }
}

async function loadHistory() {
  if (!conversationId) {
    showWelcomeIfEmpty();
    return;
  }
  try {
    const result = await api('GET', userPath(user.id, `conversations/${conversationId}/messages`));
    const history = Array.isArray(result) ? result : (result?.messages ?? []);
    messages().replaceChildren(...history.map((m) => bubble(m.role, m.content, m.tool_calls, { fresh: false })));
    showWelcomeIfEmpty();
    scrollToEnd();
  } catch (error) {
    if (error.status === 401) return;
    if (error.status === 404 || error.status === 403) {
      conversationId = null;
      session.rememberConversation(user.id, null);
      showWelcomeIfEmpty();
      return;
    }
    messages().replaceChildren(failure(`Your conversation could not be loaded. ${error.message}`, loadHistory));
  }
}

function autosize(textarea) {
  textarea.style.height = 'auto';
  textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
}

export function initChat({ onTasksChanged }) {
  tasksChanged = onTasksChanged;
  const input = byId('chat-input');
  byId('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy || !input.value.trim()) return;
    const text = input.value;
    input.value = '';
    autosize(input);
    send(text);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      byId('chat-form').requestSubmit();
    }
  });
  input.addEventListener('input', () => autosize(input));
  byId('new-chat').addEventListener('click', () => {
    conversationId = null;
    session.rememberConversation(user.id, null);
    messages().replaceChildren();
    showWelcomeIfEmpty();
    input.focus();
  });
}

export async function startChat(signedInUser) {
  user = signedInUser;
  conversationId = session.conversation(user.id);
  messages().replaceChildren();
  setBusy(false);
  await loadHistory();
}
