// Calls the API through this origin (the frontend proxies /api to the backend).
import { session } from './session.js';

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let unauthorizedHandler = () => {};

/** Called when a signed-in request gets a 401: the token expired or was revoked. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

function detailOf(body, status) {
  // Gateway trouble reads the same whoever reported it (the proxy or the backend).
  if (status === 502 || status === 503) return 'The server is not reachable right now. Try again in a moment.';
  if (status === 504) return 'The server took too long to answer. Try again.';
  const detail = body?.detail;
  if (typeof detail === 'string' && detail) return detail.charAt(0).toUpperCase() + detail.slice(1);
  // FastAPI-style validation errors: a list of {loc, msg}.
  if (Array.isArray(detail) && detail[0]?.msg) return detail.map((d) => d.msg).join('; ');
  return `Something went wrong (HTTP ${status}). Try again.`;
}

/** Sends a JSON request; resolves to the parsed body (null for 204), throws ApiError. */
export async function api(method, path, body, { keepalive = false } = {}) {
  const headers = { Accept: 'application/json' };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
    });
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.', 'network');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, detailOf(data, response.status), data?.code);
    if (response.status === 401 && token) unauthorizedHandler(error);
    throw error;
  }
  return data;
}

/** The path of a resource of the signed-in user: /api/{user_id}/... */
export const userPath = (userId, rest) => `/api/${encodeURIComponent(userId)}/${rest}`;
