// The admin GraphQL API on this origin: queries and mutations over fetch,
// subscriptions over graphql-transport-ws. The admin token lives in
// sessionStorage: it ends with the tab, and never leaves this origin.

const ENDPOINT = '/admin/graphql';
const TOKEN_KEY = 'urbackend.adminToken';
const EMAIL_KEY = 'urbackend.adminEmail';

const listeners = new Set();

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ''; },
  get email() { return sessionStorage.getItem(EMAIL_KEY) || ''; },
  set(token, email) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(EMAIL_KEY, email || '');
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(EMAIL_KEY);
  },
  /** fn() runs when the server says the token is no longer valid. */
  onExpired(fn) { listeners.add(fn); },
};

/** An error from the API: message, extensions.code, and all errors. */
export class APIError extends Error {
  constructor(message, code, errors = []) {
    super(message);
    this.name = 'APIError';
    this.code = code;
    this.errors = errors;
  }
}

function expired() {
  session.clear();
  for (const fn of listeners) fn();
}

/** Runs a query or mutation; resolves with data, rejects with APIError. */
export async function gql(query, variables = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new APIError('Cannot reach the server. Check that it is running and try again.', 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new APIError(`The server answered ${res.status} ${res.statusText} instead of JSON.`, `HTTP_${res.status}`);
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    const code = (first.extensions && first.extensions.code) || 'ERROR';
    if (code === 'UNAUTHENTICATED' && token) expired();
    throw new APIError(first.message || 'Request failed', code, body.errors);
  }
  return body.data;
}

/**
 * Subscribes over graphql-transport-ws, reconnecting with back-off.
 * handlers: next(data), error(APIError), status('connecting' | 'live' |
 * 'reconnecting' | 'stopped'). Returns a function that ends the
 * subscription.
 */
export function subscribe(query, variables, handlers) {
  let ws = null;
  let stopped = false;
  let attempt = 0;
  let retryTimer = null;
  const status = (s) => handlers.status && handlers.status(s);

  function connect() {
    if (stopped) return;
    status(attempt === 0 ? 'connecting' : 'reconnecting');
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${ENDPOINT}`;
    ws = new WebSocket(url, 'graphql-transport-ws');
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${session.token}` } }));
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      switch (msg.type) {
        case 'connection_ack':
          attempt = 0;
          status('live');
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
          break;
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong' }));
          break;
        case 'next':
          if (msg.payload && msg.payload.errors && msg.payload.errors.length) {
            const e = msg.payload.errors[0];
            handlers.error && handlers.error(new APIError(e.message, (e.extensions && e.extensions.code) || 'ERROR', msg.payload.errors));
          } else if (msg.payload && msg.payload.data) {
            handlers.next(msg.payload.data);
          }
          break;
        case 'error': {
          const errs = Array.isArray(msg.payload) ? msg.payload : [msg.payload || {}];
          const code = (errs[0].extensions && errs[0].extensions.code) || 'ERROR';
          handlers.error && handlers.error(new APIError(errs[0].message || 'Subscription failed', code, errs));
          if (code === 'UNAUTHENTICATED') { stop(); expired(); }
          break;
        }
        case 'complete':
          // The server ended it (the project was deleted, or it restarts):
          // try again, it says so if it is gone.
          ws.close(1000, 'complete');
          break;
        default:
      }
    });
    ws.addEventListener('close', (ev) => {
      if (stopped) return;
      if (ev.code === 4401 || ev.code === 4403) {
        // graphql-transport-ws: unauthorized / forbidden.
        status('stopped');
        handlers.error && handlers.error(new APIError('The live connection was refused: sign in again.', 'UNAUTHENTICATED'));
        expired();
        return;
      }
      attempt += 1;
      status('reconnecting');
      const delay = Math.min(15000, 500 * 2 ** Math.min(attempt, 5));
      retryTimer = setTimeout(connect, delay);
    });
  }

  function stop() {
    stopped = true;
    clearTimeout(retryTimer);
    if (ws && ws.readyState <= 1) {
      try {
        if (ws.readyState === 1) ws.send(JSON.stringify({ id: '1', type: 'complete' }));
        ws.close(1000, 'done');
      } catch { /* closing anyway */ }
    }
    status('stopped');
  }

  connect();
  return stop;
}

// ---------------------------------------------------------------- operations

export const PROJECT_FIELDS = `id name description publishableKey siteUrl allowedOrigins externalDatabase mailFrom createdAt`;
export const FIELD_FIELDS = `key type required unique ref default items format
  fields { key type required unique ref default items format
    fields { key type required unique ref default items format
      fields { key type required unique ref default items format } } }`;
export const COLLECTION_FIELDS = `name documentCount rls { enabled mode ownerField requireAuthForWrite } fields { ${FIELD_FIELDS} }`;

let schemaFields = null;

/**
 * The root query and mutation field names the server has, so that views
 * for operations other builds may lack (files, webhooks) show only when
 * the server supports them.
 */
export async function serverOperations() {
  if (!schemaFields) {
    schemaFields = gql(`{ q: __type(name: "Query") { fields { name } } m: __type(name: "Mutation") { fields { name } } }`)
      .then((d) => new Set([...(d.q ? d.q.fields : []), ...(d.m ? d.m.fields : [])].map((f) => f.name)))
      .catch((e) => { schemaFields = null; throw e; });
  }
  return schemaFields;
}
