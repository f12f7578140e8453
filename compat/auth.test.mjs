// Compatibility test of the Go server's end-user authentication against the
// real TypeScript client, @urbackend/sdk 0.4.8 (contract/REST.md §5.2,
// §5.3, §10.1, §2.6, §2.7).
//
// Run through compat/run.sh, which starts a fresh server and sets
// UB_COMPAT_URL, UB_COMPAT_SHORT_TTL_URL, UB_COMPAT_ADMIN_EMAIL and
// UB_COMPAT_ADMIN_PASSWORD. UB_COMPAT_SHORT_TTL_URL is a second instance on
// the same database whose access tokens live 2 seconds: a token it issues
// is soon really expired (right signature, past `exp`), which is what the
// SDK's silent refresh-and-retry after a 401 is about.
//
// Everything goes through the unchanged SDK with the publishable key; the
// project and its private collection are set up with the admin GraphQL API.
// A wrapper around the global fetch records what the SDK sends, so the
// tests can check the exact request sequence (e.g. 401, refresh, retry).
//
// The tests share one data set and run in file order.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import urBackend, {
  AuthError,
  NotFoundError,
  RateLimitError,
  UrBackendError,
  ValidationError,
} from '@urbackend/sdk';

const baseUrl = required('UB_COMPAT_URL');
const shortTtlUrl = required('UB_COMPAT_SHORT_TTL_URL');
const adminEmail = required('UB_COMPAT_ADMIN_EMAIL');
const adminPassword = required('UB_COMPAT_ADMIN_PASSWORD');

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run compat/run.sh`);
  return v;
}

// ---------------------------------------------------------------- helpers

const OBJECT_ID = /^[0-9a-f]{24}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// <uuid v4>.<64 hex> (§5.2)
const REFRESH_TOKEN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[0-9a-f]{64}$/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let adminToken = '';

async function gql(query, variables = {}) {
  const res = await realFetch(`${baseUrl}/admin/graphql`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(adminToken ? { Authorization: `Bearer ${adminToken}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `admin GraphQL answered ${res.status}: ${JSON.stringify(body)}`);
  assert.equal(body.errors, undefined, `admin GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// expectError returns a check for assert.rejects: the error is exactly of
// class cls (not a subclass), with the status code, message and endpoint.
function expectError(cls, { statusCode, message, endpoint }) {
  return (err) => {
    assert.equal(err.constructor, cls, `expected ${cls.name}, got ${err?.name}: ${err?.message}`);
    assert.ok(err instanceof UrBackendError);
    assert.equal(err.name, cls.name);
    if (message instanceof RegExp) {
      assert.match(err.message, message);
    } else {
      assert.equal(err.message, message);
    }
    assert.equal(err.statusCode, statusCode);
    assert.equal(err.endpoint, endpoint);
    return true;
  };
}

const ids = (docs) => docs.map((d) => d._id);
const withoutV = ({ __v, ...rest }) => rest;

// Every fetch the SDK makes goes through here; while `calls` is an array,
// each request is recorded as {method, path, status, bearer, refresh}:
// the Authorization bearer and the x-refresh-token header it carried.
const realFetch = globalThis.fetch;
let calls = null;
globalThis.fetch = async (url, init = {}) => {
  const res = await realFetch(url, init);
  if (calls) {
    const h = init.headers ?? {};
    const auth = h.Authorization ?? null;
    calls.push({
      method: init.method,
      path: new URL(url).pathname,
      status: res.status,
      bearer: auth ? auth.replace(/^Bearer /, '') : null,
      refresh: h['x-refresh-token'] ?? null,
    });
  }
  return res;
};

// traced runs fn and returns {value} or {error}, plus the requests it made.
async function traced(fn) {
  calls = [];
  try {
    const value = await fn();
    return { value, calls };
  } catch (error) {
    return { error, calls };
  } finally {
    calls = null;
  }
}

function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a JWT: ${token}`);
  const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: dec(parts[0]), claims: dec(parts[1]) };
}

// checkAccessToken checks an access token's header and claims (§5.2):
// HS256, {userId, projectId, sid, iat, exp} (sid names the refresh
// session; the original has no sid), lifetime ttlSeconds, issued now.
function checkAccessToken(token, userId, ttlSeconds) {
  const { header, claims } = decodeJwt(token);
  assert.equal(header.alg, 'HS256');
  assert.deepEqual(Object.keys(claims).sort(), ['exp', 'iat', 'projectId', 'sid', 'userId']);
  assert.equal(claims.userId, userId);
  assert.equal(claims.projectId, projectId);
  assert.equal(claims.exp - claims.iat, ttlSeconds);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60, `iat ${claims.iat} is not now`);
  return claims;
}

// checkTokenBody checks a signup/login/refresh body's token fields: both
// `token` and `accessToken`, `expiresIn` as a string, the raw refresh token.
function checkTokenBody(body, userId, expiresIn, ttlSeconds) {
  assert.equal(body.token, body.accessToken);
  assert.equal(body.expiresIn, expiresIn);
  assert.match(body.refreshToken, REFRESH_TOKEN);
  checkAccessToken(body.accessToken, userId, ttlSeconds);
}

const pkClient = (url = baseUrl) => urBackend({ apiKey: publishableKey, baseUrl: url });

// ----------------------------------------------------------------- set-up

let projectId;
let publishableKey;
let otherPublishableKey;
let sk; // secret key client: sees every document

// The two end users. `password` is the current one.
const ada = {
  signUpEmail: 'Ada.Lovelace@Example.com', // stored lower-cased
  email: 'ada.lovelace@example.com',
  password: 'analytical-engine',
};
const bob = { signUpEmail: 'bob@example.com', email: 'bob@example.com', password: 'difference-engine' };

// Documents as the server returned them.
const todos = {};

before(async () => {
  const login = await gql(
    `mutation($e: String!, $p: String!) { adminLogin(email: $e, password: $p) { token } }`,
    { e: adminEmail, p: adminPassword },
  );
  adminToken = login.adminLogin.token;

  const created = await gql(
    `mutation { createProject(input: {name: "SDK auth compat"}) {
       secretKey project { id publishableKey authSettings { enabled allowPublicSignups requireEmailVerification } } } }`,
  );
  const { project } = created.createProject;
  projectId = project.id;
  publishableKey = project.publishableKey;
  assert.match(publishableKey, /^pk_live_/);
  // New projects: auth on, open sign-ups, no verification needed to log in.
  assert.deepEqual(project.authSettings, { enabled: true, allowPublicSignups: true, requireEmailVerification: false });
  sk = urBackend({ apiKey: created.createProject.secretKey, baseUrl });

  const other = await gql(`mutation { createProject(input: {name: "SDK auth compat, other"}) { project { publishableKey } } }`);
  otherPublishableKey = other.createProject.project.publishableKey;

  // A private collection: every read and write needs a user token and is
  // limited to the user's own documents (owner field userId).
  const defined = await gql(
    `mutation($pid: ID!, $in: CollectionInput!) {
       defineCollection(projectId: $pid, input: $in) { name documentCount rls { enabled mode ownerField requireAuthForWrite } }
     }`,
    {
      pid: projectId,
      in: {
        name: 'todos',
        fields: [
          { key: 'title', type: 'String', required: true },
          { key: 'done', type: 'Boolean', default: false },
          { key: 'userId', type: 'String' },
        ],
        rls: { enabled: true, mode: 'PRIVATE', ownerField: 'userId' },
      },
    },
  );
  assert.deepEqual(defined.defineCollection, {
    name: 'todos',
    documentCount: 0,
    rls: { enabled: true, mode: 'PRIVATE', ownerField: 'userId', requireAuthForWrite: true },
  });
});

after(() => {
  globalThis.fetch = realFetch;
});

// ----------------------------------------------------------------- signUp

test('auth.signUp answers 201 with both tokens and the SDK stores them', async () => {
  ada.client = pkClient();
  const { value: res, error, calls } = await traced(() =>
    ada.client.auth.signUp({ email: ada.signUpEmail, password: ada.password, username: 'ada', name: 'Ada Lovelace' }),
  );
  assert.equal(error, undefined, error?.message);
  assert.deepEqual(calls, [{ method: 'POST', path: '/api/userAuth/signup', status: 201, bearer: null, refresh: null }]);
  // Exactly these fields: no user object, no data wrapper (§5.3.1).
  assert.deepEqual(res, {
    message: 'User registered successfully. Please verify your email.',
    token: res.accessToken,
    accessToken: res.accessToken,
    expiresIn: '15m',
    refreshToken: res.refreshToken,
    userId: res.userId,
  });
  assert.match(res.userId, OBJECT_ID);
  checkTokenBody(res, res.userId, '15m', 15 * 60);
  ada.id = res.userId;
  assert.equal(ada.client.auth.getToken(), res.accessToken);
  assert.equal(ada.client.auth.getRefreshToken(), res.refreshToken);

  bob.client = pkClient();
  const b = await bob.client.auth.signUp({ email: bob.signUpEmail, password: bob.password, username: 'bob' });
  checkTokenBody(b, b.userId, '15m', 15 * 60);
  bob.id = b.userId;
  assert.notEqual(bob.id, ada.id);
  assert.notEqual(b.refreshToken, res.refreshToken);
});

test('auth.signUp errors', async () => {
  const anon = pkClient();
  const endpoint = '/api/userAuth/signup';
  const cases = [
    [{ email: 'carol@example.com', password: '12345' }, 'Password must be at least 6 characters.'],
    [{ email: 'not-an-email', password: 'secret-123' }, 'Invalid email format.'],
    [{ email: '', password: 'secret-123' }, 'Email is required.'],
    [{ email: 'carol@example.com', password: 'secret-123', username: 'cj' }, 'Username must be at least 3 characters.'],
  ];
  for (const [body, message] of cases) {
    await assert.rejects(anon.auth.signUp(body), expectError(ValidationError, { statusCode: 400, message, endpoint }), JSON.stringify(body));
  }
  // Signing up again with the e-mail of an unverified user (any case) would
  // send a new code; the one sent a moment ago is still in its 60 s
  // cooldown (§5.3.1 step 2).
  await assert.rejects(
    anon.auth.signUp({ email: 'ADA.LOVELACE@example.com', password: 'other-password' }),
    expectError(RateLimitError, {
      statusCode: 429,
      message: /^Please wait (60|59) seconds before requesting another code\.$/,
      endpoint,
    }),
  );
  assert.equal(anon.auth.getToken(), undefined);
  assert.equal(anon.auth.getRefreshToken(), undefined);
});

// ------------------------------------------------------------------ login

test('auth.login with a wrong password or unknown e-mail is a ValidationError (400)', async () => {
  const before = { at: ada.client.auth.getToken(), rt: ada.client.auth.getRefreshToken() };
  for (const creds of [
    { email: ada.email, password: 'wrong-password' },
    { email: 'nobody@example.com', password: ada.password },
  ]) {
    await assert.rejects(
      ada.client.auth.login(creds),
      expectError(ValidationError, { statusCode: 400, message: 'Invalid email or password', endpoint: '/api/userAuth/login' }),
    );
  }
  // A failed login leaves the stored session alone.
  assert.equal(ada.client.auth.getToken(), before.at);
  assert.equal(ada.client.auth.getRefreshToken(), before.rt);
});

test('auth.login answers {token, accessToken, expiresIn, refreshToken} and the SDK stores them', async () => {
  const before = { at: ada.client.auth.getToken(), rt: ada.client.auth.getRefreshToken() };
  // The e-mail is looked up lower-cased and trimmed.
  const { value: res, error, calls } = await traced(() => ada.client.auth.login({ email: ' ADA.Lovelace@example.COM ', password: ada.password }));
  assert.equal(error, undefined, error?.message);
  assert.deepEqual(calls, [{ method: 'POST', path: '/api/userAuth/login', status: 200, bearer: before.at, refresh: null }]);
  assert.deepEqual(res, { token: res.accessToken, accessToken: res.accessToken, expiresIn: '15m', refreshToken: res.refreshToken });
  checkTokenBody(res, ada.id, '15m', 15 * 60);
  assert.notEqual(res.refreshToken, before.rt);
  assert.equal(ada.client.auth.getToken(), res.accessToken);
  assert.equal(ada.client.auth.getRefreshToken(), res.refreshToken);
});

// --------------------------------------------------------------------- me

test('auth.me returns the raw user document without the password', async () => {
  const me = await ada.client.auth.me();
  assert.match(me.createdAt, ISO_MS);
  assert.match(me.updatedAt, ISO_MS);
  assert.deepEqual(me, {
    _id: ada.id,
    email: ada.email,
    username: 'ada',
    name: 'Ada Lovelace',
    emailVerified: false,
    createdAt: me.createdAt,
    updatedAt: me.updatedAt,
    __v: 0,
  });
  ada.createdAt = me.createdAt;
  ada.updatedAt = me.updatedAt;

  const bobMe = await bob.client.auth.me();
  assert.equal(bobMe._id, bob.id);
  assert.equal(bobMe.email, bob.email);
  assert.equal('password' in bobMe, false);
});

test('auth.me errors: a bad explicit token is 401 without a refresh; no token fails locally', async () => {
  const { error, calls } = await traced(() => ada.client.auth.me('not-a-token'));
  expectError(AuthError, { statusCode: 401, message: 'Invalid or Expired Token', endpoint: '/api/userAuth/me' })(error);
  // me passes its token explicitly: the SDK does not try to refresh.
  assert.deepEqual(calls, [{ method: 'GET', path: '/api/userAuth/me', status: 401, bearer: 'not-a-token', refresh: null }]);

  const anon = pkClient();
  const local = await traced(() => anon.auth.me());
  expectError(AuthError, { statusCode: 401, message: 'Authentication token is required for /me endpoint', endpoint: '/api/userAuth/me' })(local.error);
  assert.deepEqual(local.calls, []);
});

// ----------------------------------------------------------- refreshToken

test('auth.refreshToken rotates: the new refresh token is returned and stored', async () => {
  const before = { at: ada.client.auth.getToken(), rt: ada.client.auth.getRefreshToken() };
  const { value: res, error, calls } = await traced(() => ada.client.auth.refreshToken());
  assert.equal(error, undefined, error?.message);
  // Header mode: the stored refresh token goes in x-refresh-token.
  assert.deepEqual(calls, [{ method: 'POST', path: '/api/userAuth/refresh-token', status: 200, bearer: before.at, refresh: before.rt }]);
  assert.deepEqual(res, { token: res.accessToken, accessToken: res.accessToken, expiresIn: '15m', refreshToken: res.refreshToken });
  checkTokenBody(res, ada.id, '15m', 15 * 60);
  assert.notEqual(res.refreshToken, before.rt);
  assert.equal(ada.client.auth.getToken(), res.accessToken);
  assert.equal(ada.client.auth.getRefreshToken(), res.refreshToken);
  assert.equal((await ada.client.auth.me())._id, ada.id);

  // Refreshing again with the rotated token works too.
  const again = await ada.client.auth.refreshToken();
  checkTokenBody(again, ada.id, '15m', 15 * 60);
  assert.notEqual(again.refreshToken, res.refreshToken);
  assert.equal(ada.client.auth.getRefreshToken(), again.refreshToken);
  ada.oldRefreshToken = before.rt;
});

test('auth.refreshToken with an already used token is refused (403) and revokes the chain', async () => {
  const current = { at: ada.client.auth.getToken(), rt: ada.client.auth.getRefreshToken() };
  const refused = expectError(AuthError, {
    statusCode: 403,
    message: 'Refresh token is invalid or already used',
    endpoint: '/api/userAuth/refresh-token',
  });
  const { error, calls } = await traced(() => ada.client.auth.refreshToken(ada.oldRefreshToken));
  refused(error);
  assert.deepEqual(calls, [
    { method: 'POST', path: '/api/userAuth/refresh-token', status: 403, bearer: current.at, refresh: ada.oldRefreshToken },
  ]);
  // A failed refresh leaves the stored tokens alone …
  assert.equal(ada.client.auth.getToken(), current.at);
  assert.equal(ada.client.auth.getRefreshToken(), current.rt);
  // … but the reuse revoked the whole rotation chain: the newest token of
  // the chain is refused now as well (§5.3.11 row 7).
  await assert.rejects(ada.client.auth.refreshToken(), refused);
  // Access tokens are not affected.
  assert.equal((await ada.client.auth.me())._id, ada.id);
});

test('auth.refreshToken errors: malformed, unknown and foreign tokens', async () => {
  const endpoint = '/api/userAuth/refresh-token';
  const anon = pkClient();
  await assert.rejects(
    anon.auth.refreshToken('garbage'),
    expectError(AuthError, { statusCode: 401, message: 'Invalid refresh token format', endpoint }),
  );
  await assert.rejects(
    anon.auth.refreshToken(`00000000-0000-4000-8000-000000000000.${'0'.repeat(64)}`),
    expectError(AuthError, { statusCode: 401, message: 'Refresh session not found', endpoint }),
  );
  // Without a stored or given token the SDK falls back to the cookie, which
  // Node's fetch does not keep.
  await assert.rejects(anon.auth.refreshToken(), expectError(AuthError, { statusCode: 401, message: 'Refresh token missing', endpoint }));

  // Another project's key: refused, and the session is not revoked.
  const fresh = pkClient();
  await fresh.auth.login({ email: ada.email, password: ada.password });
  const foreign = urBackend({ apiKey: otherPublishableKey, baseUrl });
  await assert.rejects(
    foreign.auth.refreshToken(fresh.auth.getRefreshToken()),
    expectError(AuthError, { statusCode: 403, message: 'Refresh token does not belong to this project', endpoint }),
  );
  checkTokenBody(await fresh.auth.refreshToken(), ada.id, '15m', 15 * 60);

  // Ada's own client had its chain revoked above: log in again.
  await ada.client.auth.login({ email: ada.email, password: ada.password });
});

// --------------------------------------------------- private data per user

test('db writes with the user token go to a private collection, owned by the user', async () => {
  todos.ada1 = await ada.client.db.insert('todos', { title: 'Write the notes' });
  await sleep(15);
  todos.ada2 = await ada.client.db.insert('todos', { title: 'Translate Menabrea', done: true });
  await sleep(15);
  todos.bob1 = await bob.client.db.insert('todos', { title: 'Build the engine' });
  for (const [doc, title, done, owner] of [
    [todos.ada1, 'Write the notes', false, ada.id],
    [todos.ada2, 'Translate Menabrea', true, ada.id],
    [todos.bob1, 'Build the engine', false, bob.id],
  ]) {
    assert.match(doc._id, OBJECT_ID);
    assert.match(doc.createdAt, ISO_MS);
    // The owner field is injected as the user id string (§2.7 row 10).
    assert.deepEqual(doc, { _id: doc._id, title, done, userId: owner, createdAt: doc.createdAt, updatedAt: doc.createdAt, __v: 0 });
  }
  // Sending one's own id as owner is fine.
  todos.ada3 = await ada.client.db.insert('todos', { title: 'Own id given', userId: ada.id });
  assert.equal(todos.ada3.userId, ada.id);
  assert.equal(await sk.db.count('todos'), 4);
});

test('db reads with the user token return only the user\'s own documents', async () => {
  assert.deepEqual(await ada.client.db.getAll('todos'), [todos.ada3, todos.ada2, todos.ada1]);
  assert.deepEqual(await bob.client.db.getAll('todos'), [todos.bob1]);
  assert.equal(await ada.client.db.count('todos'), 3);
  assert.equal(await bob.client.db.count('todos'), 1);
  // The owner filter is AND-ed with the client's filters.
  assert.deepEqual(ids(await ada.client.db.getAll('todos', { filter: { done: true } })), [todos.ada2._id]);
  assert.deepEqual(await bob.client.db.getAll('todos', { filter: { done: true } }), []);
  assert.deepEqual(ids(await ada.client.db.getAll('todos', { filter: { userId: bob.id } })), []);
  assert.equal(await ada.client.db.count('todos', { filter: { title: 'Build the engine' } }), 0);
  assert.deepEqual(ids(await ada.client.db.getAll('todos', { sort: 'title', limit: 2 })), [todos.ada3._id, todos.ada2._id]);

  assert.deepEqual(await ada.client.db.getOne('todos', todos.ada1._id), withoutV(todos.ada1));
  // Someone else's document looks absent.
  const path = `/api/data/todos/${todos.bob1._id}`;
  await assert.rejects(
    ada.client.db.getOne('todos', todos.bob1._id),
    expectError(NotFoundError, { statusCode: 404, message: 'Document not found.', endpoint: path }),
  );

  // A token given per call is used instead of the stored one.
  const anon = pkClient();
  assert.deepEqual(await anon.db.getAll('todos', {}, bob.client.auth.getToken()), [todos.bob1]);
  // The secret key sees everything.
  assert.deepEqual(ids(await sk.db.getAll('todos')), ids([todos.ada3, todos.bob1, todos.ada2, todos.ada1]));
});

test('db writes on someone else\'s documents are refused (AuthError 403)', async () => {
  const path = `/api/data/todos/${todos.bob1._id}`;
  for (const call of [
    () => ada.client.db.update('todos', todos.bob1._id, { done: true }),
    () => ada.client.db.patch('todos', todos.bob1._id, { done: true }),
    () => ada.client.db.delete('todos', todos.bob1._id),
  ]) {
    await assert.rejects(
      call(),
      expectError(AuthError, { statusCode: 403, message: 'You can only modify your own document.', endpoint: path }),
    );
  }
  await assert.rejects(
    ada.client.db.insert('todos', { title: 'Forged', userId: bob.id }),
    expectError(AuthError, { statusCode: 403, message: 'Item at index 0 must have userId equal to your user id', endpoint: '/api/data/todos' }),
  );
  await assert.rejects(
    ada.client.db.patch('todos', todos.ada1._id, { userId: bob.id }),
    expectError(AuthError, { statusCode: 403, message: 'userId cannot be changed under RLS.', endpoint: `/api/data/todos/${todos.ada1._id}` }),
  );
  assert.deepEqual(await bob.client.db.getOne('todos', todos.bob1._id), withoutV(todos.bob1));
  assert.equal(await sk.db.count('todos'), 4);
});

test('db updates and deletes of one\'s own documents work', async () => {
  await sleep(15);
  const got = await ada.client.db.patch('todos', todos.ada1._id, { done: true, userId: ada.id });
  assert.ok(got.updatedAt > todos.ada1.updatedAt);
  assert.deepEqual(got, { ...todos.ada1, done: true, updatedAt: got.updatedAt });
  todos.ada1 = got;
  assert.deepEqual(await ada.client.db.delete('todos', todos.ada3._id), { deleted: true });
  assert.deepEqual(await ada.client.db.getAll('todos'), [todos.ada2, todos.ada1]);
  assert.equal(await sk.db.count('todos'), 3);
});

test('without a user token the private collection answers 401 after a failed silent refresh', async () => {
  const anon = pkClient();
  for (const [call, method, message] of [
    [() => anon.db.getAll('todos'), 'GET', 'Provide a valid user Bearer token for private reads.'],
    [() => anon.db.insert('todos', { title: 'Anonymous' }), 'POST', 'Provide a valid user Bearer token for write operations.'],
  ]) {
    const { error, calls } = await traced(call);
    expectError(AuthError, { statusCode: 401, message, endpoint: '/api/data/todos' })(error);
    // The SDK tries a refresh (cookie mode: it holds no refresh token), which
    // fails, and reports the original 401 without retrying.
    assert.deepEqual(calls, [
      { method, path: '/api/data/todos', status: 401, bearer: null, refresh: null },
      { method: 'POST', path: '/api/userAuth/refresh-token', status: 401, bearer: null, refresh: null },
    ]);
  }
  assert.equal(await sk.db.count('todos'), 3);
});

// ------------------------------------------- silent refresh after a 401

test('an expired access token: the SDK refreshes and retries the db call', async () => {
  // Two sessions from the instance whose access tokens live 2 seconds.
  const short = [pkClient(shortTtlUrl), pkClient(shortTtlUrl)];
  const sessions = [];
  for (const c of short) {
    const res = await c.auth.login({ email: ada.email, password: ada.password });
    checkTokenBody(res, ada.id, '2s', 2);
    sessions.push(res);
  }
  const exp = Math.max(...sessions.map((s) => decodeJwt(s.accessToken).claims.exp));
  await sleep(Math.max(0, exp * 1000 - Date.now()) + 250);

  // Really expired: an explicit-token call gets 401 and does not refresh.
  const expired = await traced(() => short[0].auth.me());
  expectError(AuthError, { statusCode: 401, message: 'Invalid or Expired Token', endpoint: '/api/userAuth/me' })(expired.error);
  assert.equal(expired.calls.length, 1);
  // The main instance (15m tokens) refuses it just the same.
  await assert.rejects(
    pkClient().auth.me(sessions[0].accessToken),
    expectError(AuthError, { statusCode: 401, message: 'Invalid or Expired Token', endpoint: '/api/userAuth/me' }),
  );

  // A write: 401, refresh with the stored refresh token, retry with the
  // new access token.
  const writer = pkClient();
  writer.auth.setToken(sessions[0].accessToken, sessions[0].refreshToken);
  const w = await traced(() => writer.db.insert('todos', { title: 'Written with an expired token' }));
  assert.equal(w.error, undefined, w.error?.message);
  const newAt = writer.auth.getToken();
  const newRt = writer.auth.getRefreshToken();
  assert.deepEqual(w.calls, [
    { method: 'POST', path: '/api/data/todos', status: 401, bearer: sessions[0].accessToken, refresh: null },
    { method: 'POST', path: '/api/userAuth/refresh-token', status: 200, bearer: sessions[0].accessToken, refresh: sessions[0].refreshToken },
    { method: 'POST', path: '/api/data/todos', status: 201, bearer: newAt, refresh: null },
  ]);
  assert.deepEqual(w.value, {
    _id: w.value._id,
    title: 'Written with an expired token',
    done: false,
    userId: ada.id,
    createdAt: w.value.createdAt,
    updatedAt: w.value.createdAt,
    __v: 0,
  });
  todos.ada4 = w.value;
  // The refreshed pair is stored: a 15m token from the main instance and
  // the rotated refresh token.
  checkAccessToken(newAt, ada.id, 15 * 60);
  assert.match(newRt, REFRESH_TOKEN);
  assert.notEqual(newRt, sessions[0].refreshToken);
  // The next call uses the new token directly.
  const next = await traced(() => writer.db.count('todos'));
  assert.equal(next.value, 3);
  assert.deepEqual(next.calls, [{ method: 'GET', path: '/api/data/todos', status: 200, bearer: newAt, refresh: null }]);

  // A private read: the same dance, and still only the user's documents.
  const reader = pkClient();
  reader.auth.setToken(sessions[1].accessToken, sessions[1].refreshToken);
  const r = await traced(() => reader.db.getAll('todos'));
  assert.equal(r.error, undefined, r.error?.message);
  assert.deepEqual(r.value, [todos.ada4, todos.ada2, todos.ada1]);
  assert.deepEqual(r.calls.map(({ method, path, status }) => ({ method, path, status })), [
    { method: 'GET', path: '/api/data/todos', status: 401 },
    { method: 'POST', path: '/api/userAuth/refresh-token', status: 200 },
    { method: 'GET', path: '/api/data/todos', status: 200 },
  ]);
  assert.notEqual(reader.auth.getRefreshToken(), sessions[1].refreshToken);

  // With a spent refresh token the refresh fails (403) and the SDK reports
  // the original 401, without a retry.
  const stale = pkClient();
  stale.auth.setToken(sessions[0].accessToken, sessions[0].refreshToken);
  const s = await traced(() => stale.db.insert('todos', { title: 'Never written' }));
  expectError(AuthError, {
    statusCode: 401,
    message: 'Provide a valid user Bearer token for write operations.',
    endpoint: '/api/data/todos',
  })(s.error);
  assert.deepEqual(s.calls.map(({ method, path, status }) => ({ method, path, status })), [
    { method: 'POST', path: '/api/data/todos', status: 401 },
    { method: 'POST', path: '/api/userAuth/refresh-token', status: 403 },
  ]);
  assert.equal(stale.auth.getToken(), sessions[0].accessToken);
  assert.equal(await sk.db.count('todos'), 4);
});

// ---------------------------------------------------------- updateProfile

test('auth.updateProfile sets the user\'s own fields', async () => {
  await sleep(15);
  assert.deepEqual(
    await ada.client.auth.updateProfile({ name: 'Augusta Ada King', username: 'countess' }),
    { message: 'Profile updated successfully' },
  );
  const me = await ada.client.auth.me();
  assert.ok(me.updatedAt > ada.updatedAt, `updatedAt ${me.updatedAt} must move past ${ada.updatedAt}`);
  assert.deepEqual(me, {
    _id: ada.id,
    email: ada.email,
    username: 'countess',
    name: 'Augusta Ada King',
    emailVerified: false,
    createdAt: ada.createdAt,
    updatedAt: me.updatedAt,
    __v: 0,
  });

  // E-mail, password hash and verification flag are not the user's to set:
  // ignored (§5.3.6, "Go SHOULD ignore those keys").
  assert.deepEqual(
    await ada.client.auth.updateProfile({ email: 'evil@example.com', emailVerified: true, password: 'not-this-way' }),
    { message: 'Profile updated successfully' },
  );
  const after = await ada.client.auth.me();
  assert.deepEqual({ ...after, updatedAt: me.updatedAt }, me);

  assert.deepEqual(await ada.client.auth.publicProfile('countess'), {
    _id: ada.id,
    username: 'countess',
    name: 'Augusta Ada King',
    createdAt: ada.createdAt,
    updatedAt: after.updatedAt,
  });
});

test('auth.updateProfile errors', async () => {
  const endpoint = '/api/userAuth/update-profile';
  await assert.rejects(
    ada.client.auth.updateProfile({ username: 'ab' }),
    expectError(ValidationError, { statusCode: 400, message: 'Username must be between 3 and 50 characters.', endpoint }),
  );
  await assert.rejects(
    ada.client.auth.updateProfile({ username: 'bob' }),
    expectError(UrBackendError, { statusCode: 409, message: 'Username is already taken.', endpoint }),
  );
  await assert.rejects(
    ada.client.auth.updateProfile({ name: 'x' }, 'not-a-token'),
    expectError(AuthError, { statusCode: 401, message: 'Access Denied: Invalid or expired token', endpoint }),
  );
  const local = await traced(() => pkClient().auth.updateProfile({ name: 'x' }));
  expectError(AuthError, { statusCode: 401, message: 'Authentication token is required to update profile', endpoint })(local.error);
  assert.deepEqual(local.calls, []);
  const me = await ada.client.auth.me();
  assert.equal(me.username, 'countess');
  assert.equal(me.name, 'Augusta Ada King');
});

// --------------------------------------------------------- changePassword

test('auth.changePassword errors', async () => {
  const endpoint = '/api/userAuth/change-password';
  await assert.rejects(
    ada.client.auth.changePassword({ currentPassword: 'wrong-password', newPassword: 'babbage-1833' }),
    expectError(ValidationError, { statusCode: 400, message: 'Invalid current password', endpoint }),
  );
  await assert.rejects(
    ada.client.auth.changePassword({ currentPassword: ada.password, newPassword: '12345' }),
    expectError(ValidationError, { statusCode: 400, message: 'New password must be at least 6 characters', endpoint }),
  );
  await assert.rejects(
    ada.client.auth.changePassword({ currentPassword: '', newPassword: 'babbage-1833' }),
    expectError(ValidationError, { statusCode: 400, message: 'Current password is required', endpoint }),
  );
  await assert.rejects(
    ada.client.auth.changePassword({ currentPassword: ada.password, newPassword: 'babbage-1833' }, 'not-a-token'),
    expectError(AuthError, { statusCode: 401, message: 'Access Denied: Invalid or expired token', endpoint }),
  );
  // Still the old password.
  checkTokenBody(await pkClient().auth.login({ email: ada.email, password: ada.password }), ada.id, '15m', 15 * 60);
});

test('auth.changePassword: the old password then fails at login, the new one works', async () => {
  const oldPassword = ada.password;
  const newPassword = 'babbage-1833';
  const sessionBefore = ada.client.auth.getRefreshToken();
  assert.deepEqual(
    await ada.client.auth.changePassword({ currentPassword: oldPassword, newPassword }),
    { message: 'Password changed successfully' },
  );
  ada.password = newPassword;
  await assert.rejects(
    pkClient().auth.login({ email: ada.email, password: oldPassword }),
    expectError(ValidationError, { statusCode: 400, message: 'Invalid email or password', endpoint: '/api/userAuth/login' }),
  );
  // The access token in hand stays valid.
  assert.equal((await ada.client.auth.me())._id, ada.id);
  // The server revokes the user's other sessions but spares the caller's:
  // the SDK does not send its refresh token here, but the access token
  // names its session, so the SDK's own session keeps refreshing.
  checkTokenBody(await ada.client.auth.refreshToken(sessionBefore), ada.id, '15m', 15 * 60);
  const res = await ada.client.auth.login({ email: ada.email, password: newPassword });
  checkTokenBody(res, ada.id, '15m', 15 * 60);
  assert.equal(ada.client.auth.getRefreshToken(), res.refreshToken);
  // Bob's sessions are not touched.
  checkTokenBody(await bob.client.auth.refreshToken(), bob.id, '15m', 15 * 60);
});

// ----------------------------------------------------------------- logout

test('auth.logout revokes the refresh session; refreshing afterwards fails', async () => {
  const at = ada.client.auth.getToken();
  const rt = ada.client.auth.getRefreshToken();
  const { value, error, calls } = await traced(() => ada.client.auth.logout());
  assert.equal(error, undefined, error?.message);
  assert.deepEqual(value, { success: true, message: 'Logged out successfully' });
  // Bearer and the refresh token in x-refresh-token.
  assert.deepEqual(calls, [{ method: 'POST', path: '/api/userAuth/logout', status: 200, bearer: at, refresh: rt }]);
  assert.equal(ada.client.auth.getToken(), undefined);
  // SDK 0.4.8 quirk: logout calls setToken(undefined, undefined), which
  // leaves the in-memory refresh token in place; the server revoked it.
  assert.equal(ada.client.auth.getRefreshToken(), rt);
  const refused = expectError(AuthError, {
    statusCode: 403,
    message: 'Refresh token is invalid or already used',
    endpoint: '/api/userAuth/refresh-token',
  });
  await assert.rejects(ada.client.auth.refreshToken(), refused);
  await assert.rejects(pkClient().auth.refreshToken(rt), refused);
  // Access tokens stay valid until they expire (§5.3.12).
  assert.equal((await ada.client.auth.me(at))._id, ada.id);

  // Without a token the private collection is closed again: the SDK's
  // silent refresh with the revoked token fails and the 401 is reported.
  const { error: e, calls: c } = await traced(() => ada.client.db.getAll('todos'));
  expectError(AuthError, { statusCode: 401, message: 'Provide a valid user Bearer token for private reads.', endpoint: '/api/data/todos' })(e);
  assert.deepEqual(c.map(({ path, status }) => [path, status]), [
    ['/api/data/todos', 401],
    ['/api/userAuth/refresh-token', 403],
  ]);

  // Logging out again, or with nothing to revoke, still answers 200.
  assert.deepEqual(await pkClient().auth.logout(at), { success: true, message: 'Logged out successfully' });
  assert.deepEqual(await pkClient().auth.logout(), { success: true, message: 'Logged out locally' });
  // Bob is still signed in.
  assert.equal((await bob.client.auth.me())._id, bob.id);
  assert.deepEqual(await bob.client.db.getAll('todos'), [todos.bob1]);
});
