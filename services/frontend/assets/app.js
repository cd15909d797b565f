// Entry point: restores the session, then shows either the sign-in card or the workspace.
import { api, onUnauthorized } from './api.js';
import { initAuth, showAuth } from './auth.js';
import { initChat, startChat } from './chat.js';
import { byId, initToast } from './dom.js';
import { session } from './session.js';
import { initTasks, refreshTasks, startTasks, stopTasks } from './tasks.js';

function showApp(user) {
  byId('auth-view').hidden = true;
  byId('app-view').hidden = false;
  byId('account').hidden = false;
  byId('who').textContent = user.name || user.email;
  byId('who').title = user.email;
  startTasks(user);
  startChat(user);
  byId('chat-input').focus();
}

function signOut(message) {
  stopTasks();
  session.clear();
  showAuth(message);
}

async function boot() {
  initToast();
  initAuth(showApp);
  initTasks();
  initChat({ onTasksChanged: refreshTasks });
  byId('sign-out').addEventListener('click', () => signOut(''));
  onUnauthorized(() => signOut('Your session has ended. Please sign in again.'));

  const user = session.user();
  byId('boot').hidden = true;
  if (!session.token() || !user) {
    showAuth();
    return;
  }
  try {
    const me = await api('GET', '/api/auth/me');
    const current = me?.user ?? user;
    session.updateUser(current);
    showApp(current);
  } catch (error) {
    // 401 already signed out; anything else (server away) keeps the saved session.
    if (error.status !== 401) showApp(user);
  }
}

boot();
