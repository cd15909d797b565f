// The signed-in session, kept in localStorage so a reload keeps you signed in.
const SESSION_KEY = 'todo.session';
/** Set once someone has signed in on this browser: it is greeted as returning from then on. */
const RETURNING_KEY = 'todo.returning';
const conversationKey = (userId) => `todo.conversation.${userId}`;

function read() {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null');
    return value && typeof value.token === 'string' && value.user ? value : null;
  } catch {
    return null;
  }
}

export const session = {
  token: () => read()?.token ?? null,
  user: () => read()?.user ?? null,
  save(token, user) {
    localStorage.setItem(SESSION_KEY, JSON.stringify({ token, user }));
    localStorage.setItem(RETURNING_KEY, '1');
  },
  /** Whether anyone has signed in on this browser before. */
  returning: () => localStorage.getItem(RETURNING_KEY) === '1',
  updateUser(user) {
    const current = read();
    if (current) this.save(current.token, user);
  },
  clear() {
    localStorage.removeItem(SESSION_KEY);
  },
  conversation(userId) {
    const id = Number(localStorage.getItem(conversationKey(userId)));
    return Number.isInteger(id) && id > 0 ? id : null;
  },
  rememberConversation(userId, id) {
    if (id == null) localStorage.removeItem(conversationKey(userId));
    else localStorage.setItem(conversationKey(userId), String(id));
  },
};
