// The sign-in / create-account card (the backend's built-in accounts).
import { api } from './api.js';
import { byId } from './dom.js';
import { session } from './session.js';

let mode = 'sign-in';
let signedIn = () => {};

function setMode(next) {
  mode = next;
  const signUp = mode === 'sign-up';
  byId('tab-sign-in').setAttribute('aria-pressed', String(!signUp));
  byId('tab-sign-up').setAttribute('aria-pressed', String(signUp));
  byId('name-field').hidden = !signUp;
  byId('password-hint').hidden = !signUp;
  byId('auth-title').textContent = signUp ? 'Create your account' : 'Welcome back';
  byId('auth-lede').textContent = signUp
    ? 'One account, one task list, and an assistant that keeps it tidy.'
    : 'Sign in to chat with your task list.';
  byId('auth-submit').textContent = signUp ? 'Create account' : 'Sign in';
  byId('auth-password').autocomplete = signUp ? 'new-password' : 'current-password';
  byId('auth-error').textContent = '';
}

function problemWith(email, password) {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return ['auth-email', 'Enter an email address such as you@example.com.'];
  if (mode === 'sign-in' && !password) return ['auth-password', 'Enter your password.'];
  const length = [...password].length;
  if (mode === 'sign-up' && (length < 8 || length > 128)) {
    return ['auth-password', 'Choose a password of 8 to 128 characters.'];
  }
  return null;
}

async function submit(event) {
  event.preventDefault();
  const email = byId('auth-email').value.trim();
  const password = byId('auth-password').value;
  const name = byId('auth-name').value.trim();
  const error = byId('auth-error');
  const problem = problemWith(email, password);
  for (const id of ['auth-email', 'auth-password']) byId(id).removeAttribute('aria-invalid');
  if (problem) {
    const [field, message] = problem;
    byId(field).setAttribute('aria-invalid', 'true');
    error.textContent = message;
    byId(field).focus();
    return;
  }
  const button = byId('auth-submit');
  button.disabled = true;
  error.textContent = '';
  try {
    const body = mode === 'sign-up' ? { email, password, ...(name ? { name } : {}) } : { email, password };
    const result = await api('POST', `/api/auth/${mode}`, body);
    session.save(result.token, result.user);
    byId('auth-password').value = '';
    signedIn(result.user);
  } catch (failure) {
    error.textContent = explain(failure);
  } finally {
    button.disabled = false;
  }
}

function explain(failure) {
  if (failure.status === 401) return 'That email and password do not match an account.';
  if (failure.status === 409) return 'An account with this email already exists. Sign in instead?';
  if (failure.status === 429) return 'Too many attempts. Wait a minute, then try again.';
  return failure.message;
}

export function initAuth(onSignedIn) {
  signedIn = onSignedIn;
  byId('tab-sign-in').addEventListener('click', () => setMode('sign-in'));
  byId('tab-sign-up').addEventListener('click', () => setMode('sign-up'));
  byId('auth-form').addEventListener('submit', submit);
}

/**
 * Shows the card, with an optional message (e.g. why the session ended). A browser nobody has
 * signed in on yet opens on "Create account"; one that has, on "Sign in".
 */
export function showAuth(message = '') {
  setMode(session.returning() ? 'sign-in' : 'sign-up');
  byId('app-view').hidden = true;
  byId('account').hidden = true;
  byId('auth-view').hidden = false;
  byId('auth-error').textContent = message;
  byId('auth-email').focus();
}
