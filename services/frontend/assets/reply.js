// The assistant's replies as elements: the small part of Markdown the agent writes (paragraphs,
// "- " and "1. " lists, "[ ]"/"[x]" task marks, **bold**, `code`), built node by node with
// textContent, so no reply, whatever it holds, is ever parsed as HTML.
import { h } from './dom.js';

const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const TASK_MARK = /^\[( |x|X)\]\s+(.*)$/;
const INLINE = /\*\*([^*]+)\*\*|`([^`]+)`/g;

/** Text with **bold** and `code` spans as elements, everything else as text nodes. */
function inline(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(match[1] != null ? h('strong', {}, match[1]) : h('code', {}, match[2]));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

function listItem(text) {
  const mark = TASK_MARK.exec(text);
  if (!mark) return h('li', {}, inline(text));
  const done = mark[1] !== ' ';
  return h(
    'li',
    { class: `checklist-item${done ? ' is-done' : ''}` },
    h('span', { class: 'mark', 'aria-hidden': 'true' }, done ? '✓' : ''),
    h('span', { class: 'visually-hidden' }, done ? 'done: ' : 'pending: '),
    inline(mark[2]),
  );
}

/** Splits a reply into blocks: runs of list lines of one kind, and paragraphs between them. */
function blocks(text) {
  const found = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    const kind = bullet ? 'ul' : numbered ? 'ol' : line.trim() ? 'p' : 'gap';
    const content = bullet?.[1] ?? numbered?.[1] ?? line;
    const previous = found.at(-1);
    if (kind === 'gap') {
      if (previous) previous.closed = true;
    } else if (previous && previous.kind === kind && !previous.closed) {
      previous.lines.push(content);
    } else {
      found.push({ kind, lines: [content], closed: false });
    }
  }
  return found;
}

/** The reply's elements, ready to append to a message bubble. */
export function renderReply(text) {
  return blocks(text ?? '').map(({ kind, lines }) => {
    if (kind === 'p') {
      const parts = lines.flatMap((line, i) => (i === 0 ? inline(line) : [h('br'), ...inline(line)]));
      return h('p', { class: 'msg-text' }, parts);
    }
    const checklist = lines.some((line) => TASK_MARK.test(line));
    return h(kind, { class: `msg-list${checklist ? ' checklist' : ''}` }, lines.map(listItem));
  });
}
