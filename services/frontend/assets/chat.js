// The chat panel: the conversation's history, the turn in progress, and what each reply did.
import { api, userPath } from './api.js';
import { byId, h } from './dom.js';
import { renderReply } from './reply.js';
import { session } from './session.js';

const SUGGESTIONS = ['Add a task to buy groceries', "What's pending?", 'Show me all my tasks'];
const CHANGES_TASKS = new Set(['add_task', 'complete_task', 'delete_task', 'update_task']);

let user = null;
let conversationId = null;
/** The user's conversations, most recently active first, as the API lists them. */
let conversations = [];
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
      if (output.already_completed) return { kind: 'completed', text: `${named}${id} was already complete` };
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
    mine ? h('p', { class: 'msg-text' }, text) : renderReply(text),
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
    const started = conversationId !== reply.conversation_id;
    conversationId = reply.conversation_id;
    session.rememberConversation(user.id, conversationId);
    if (started) loadConversations();
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
  const wanted = conversationId;
  if (!wanted) {
    showWelcomeIfEmpty();
    return;
  }
  try {
    const result = await api('GET', userPath(user.id, `conversations/${wanted}/messages`));
    // Another conversation was picked while this one loaded: that one wins.
    if (conversationId !== wanted) return;
    const history = Array.isArray(result) ? result : (result?.messages ?? []);
    messages().replaceChildren(...history.map((m) => bubble(m.role, m.content, m.tool_calls, { fresh: false })));
    showWelcomeIfEmpty();
    scrollToEnd();
  } catch (error) {
    if (error.status === 401 || conversationId !== wanted) return;
    if (error.status === 404 || error.status === 403) {
      conversationId = null;
      session.rememberConversation(user.id, null);
      renderPicker();
      showWelcomeIfEmpty();
      return;
    }
    messages().replaceChildren(failure(`Your conversation could not be loaded. ${error.message}`, loadHistory));
  }
}

const MAX_COMPOSER_HEIGHT = 160;

/** Grows the message box with its text up to 160 px; only beyond that may it scroll. */
function autosize(textarea) {
  textarea.style.height = 'auto';
  // scrollHeight leaves out the borders, which the border-box height includes.
  const wanted = textarea.scrollHeight + textarea.offsetHeight - textarea.clientHeight;
  textarea.style.height = `${Math.min(wanted, MAX_COMPOSER_HEIGHT)}px`;
  textarea.style.overflowY = wanted > MAX_COMPOSER_HEIGHT ? 'auto' : 'hidden';
}

const whenFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** The picker of earlier conversations; hidden until there is one. */
function renderPicker() {
  const picker = byId('history');
  const options = conversations.map((c, index) =>
    h('option', { value: String(c.id) }, `${index === 0 ? 'Latest: ' : ''}${whenFormat.format(new Date(c.updated_at))}`),
  );
  if (conversationId == null || !conversations.some((c) => c.id === conversationId)) {
    options.unshift(h('option', { value: '' }, 'New conversation'));
  }
  picker.replaceChildren(...options);
  picker.value = conversationId == null ? '' : String(conversationId);
  byId('history-field').hidden = conversations.length === 0;
}

async function loadConversations() {
  try {
    const listed = await api('GET', userPath(user.id, 'conversations'));
    conversations = Array.isArray(listed) ? listed : [];
  } catch {
    // The picker is a convenience: without the list, the current conversation still works.
    conversations = [];
  }
  renderPicker();
}

function openConversation(id) {
  conversationId = id;
  session.rememberConversation(user.id, id);
  messages().replaceChildren();
  renderPicker();
  return loadHistory();
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
    openConversation(null);
    input.focus();
  });
  byId('history').addEventListener('change', (event) => {
    const id = Number(event.target.value);
    openConversation(Number.isInteger(id) && id > 0 ? id : null);
  });
}

/** Shows the conversation this browser last had open, or else the user's latest one. */
export async function startChat(signedInUser) {
  user = signedInUser;
  conversations = [];
  conversationId = session.conversation(user.id);
  messages().replaceChildren();
  setBusy(false);
  const listing = loadConversations();
  if (conversationId == null) {
    await listing;
    if (conversations.length > 0) {
      conversationId = conversations[0].id;
      session.rememberConversation(user.id, conversationId);
      renderPicker();
    }
  }
  await Promise.all([loadHistory(), listing]);
}
