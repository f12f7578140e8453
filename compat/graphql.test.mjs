// Compatibility test of the per-project GraphQL API (contract/GRAPHQL.md)
// against real JavaScript GraphQL clients: graphql-js 16 (introspection
// → buildClientSchema → printSchema, validate), plain fetch for queries and
// mutations, and graphql-ws 6 (createClient over the ws package) for
// subscriptions, fed by writes made through the REST API with the SDK.
//
// Run through compat/run.sh, which starts a fresh server and sets
// UB_COMPAT_URL, UB_COMPAT_ADMIN_EMAIL and UB_COMPAT_ADMIN_PASSWORD.
// The tests share one project and run in file order.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { buildClientSchema, getIntrospectionQuery, parse, printSchema, validate } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import urBackend from '@urbackend/sdk';

const baseUrl = required('UB_COMPAT_URL');
const adminEmail = required('UB_COMPAT_ADMIN_EMAIL');
const adminPassword = required('UB_COMPAT_ADMIN_PASSWORD');
const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/graphql`;

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run compat/run.sh`);
  return v;
}

const OBJECT_ID = /^[0-9a-f]{24}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_ID = '0123456789abcdef01234567';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- helpers

let adminToken = '';

async function adminGql(query, variables = {}) {
  const res = await fetch(`${baseUrl}/admin/graphql`, {
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

// gql posts an operation to the project's /graphql with fetch and returns
// the HTTP status and the decoded body.
async function gql({ key, token }, query, variables) {
  const headers = { 'Content-Type': 'application/json' };
  if (key) headers['x-api-key'] = key;
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return { status: res.status, body: await res.json() };
}

// ok runs an operation and returns its data, failing on any error.
async function ok(creds, query, variables) {
  const { status, body } = await gql(creds, query, variables);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.errors, undefined, `GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// ----------------------------------------------------------------- set-up

let projectId;
let pk; // publishable key
let sk; // secret key
let skClient; // the SDK with the secret key: REST writes
let userToken; // an end user's access token
let userId;
let otherUserId;

before(async () => {
  const login = await adminGql(
    `mutation($e: String!, $p: String!) { adminLogin(email: $e, password: $p) { token } }`,
    { e: adminEmail, p: adminPassword },
  );
  adminToken = login.adminLogin.token;

  const created = await adminGql(
    `mutation { createProject(input: {name: "GraphQL compat"}) { secretKey project { id publishableKey } } }`,
  );
  projectId = created.createProject.project.id;
  pk = created.createProject.project.publishableKey;
  sk = created.createProject.secretKey;

  const define = `mutation($pid: ID!, $in: CollectionInput!) { defineCollection(projectId: $pid, input: $in) { name } }`;
  await adminGql(define, {
    pid: projectId,
    in: {
      name: 'posts',
      fields: [
        { key: 'title', type: 'String', required: true },
        { key: 'views', type: 'Number' },
        { key: 'published', type: 'Boolean' },
        { key: 'tags', type: 'Array', items: { type: 'String' } },
      ],
    },
  });
  // Private: a user reads (and hears of) only the notes whose userId is
  // theirs, whoever wrote them.
  await adminGql(define, {
    pid: projectId,
    in: {
      name: 'notes',
      fields: [
        { key: 'text', type: 'String', required: true },
        { key: 'userId', type: 'String' },
      ],
      rls: { enabled: true, mode: 'PRIVATE', ownerField: 'userId' },
    },
  });

  skClient = urBackend({ apiKey: sk, baseUrl });

  // Two end users, signed up through the GraphQL auth mutation.
  const signUp = `mutation($e: String!, $p: String!, $n: String) {
    signUp(email: $e, password: $p, name: $n) { accessToken refreshToken expiresIn user { _id name username } }
  }`;
  const ann = await ok({ key: pk }, signUp, { e: 'ann@example.com', p: 'ann-password-1', n: 'Ann' });
  assert.match(ann.signUp.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.equal(ann.signUp.expiresIn, '15m');
  assert.equal(typeof ann.signUp.refreshToken, 'string');
  assert.match(ann.signUp.user._id, OBJECT_ID);
  assert.equal(ann.signUp.user.name, 'Ann');
  userToken = ann.signUp.accessToken;
  userId = ann.signUp.user._id;
  const bob = await ok({ key: pk }, signUp, { e: 'bob@example.com', p: 'bob-password-1', n: 'Bob' });
  otherUserId = bob.signUp.user._id;
  assert.notEqual(otherUserId, userId);
});

// ------------------------------------------------------------ introspection

let schema;

// The posts collection's types, as printSchema prints them (each block
// separately: the order of the types follows the introspection answer).
const POSTS_TYPES = [
  `"""A document of the posts collection."""
type Posts {
  _id: ID!
  title: String
  views: Float
  published: Boolean
  tags: [String]
  createdAt: Time
  updatedAt: Time
}`,
  `input PostsInput {
  title: String!
  views: Float
  published: Boolean
  tags: [String]
}`,
  `input PostsPatch {
  title: String
  views: Float
  published: Boolean
  tags: [String]
}`,
  `input PostsFilter {
  and: [PostsFilter!]
  or: [PostsFilter!]
  not: PostsFilter
  _id: IDFilter
  title: StringFilter
  views: FloatFilter
  published: BooleanFilter
  tags: StringFilter
  createdAt: TimeFilter
  updatedAt: TimeFilter
}`,
  `input PostsSort {
  field: PostsSortField!
  order: SortOrder = ASC
}`,
  `enum PostsSortField {
  _id
  title
  views
  published
  createdAt
  updatedAt
}`,
  `type PostsPage {
  items: [Posts!]!

  """
  The cursor to pass as after for the next page; null when the page is empty.
  """
  endCursor: String
  hasNextPage: Boolean!
}`,
  `type PostsChange {
  op: ChangeOp!
  id: ID!

  """The document after the write; null for deletes."""
  doc: Posts
}`,
];

test('introspection is accepted by graphql-js: buildClientSchema, printSchema, validate', async () => {
  const { status, body } = await gql({ key: pk }, getIntrospectionQuery());
  assert.equal(status, 200);
  assert.equal(body.errors, undefined);
  schema = buildClientSchema(body.data);
  const printed = printSchema(schema);

  for (const block of [
    ...POSTS_TYPES,
    `enum ChangeOp {
  INSERT
  UPDATE
  DELETE
}`,
    `enum SortOrder {
  ASC
  DESC
}`,
    `input IDFilter {
  eq: ID
  ne: ID
  in: [ID]
  nin: [ID]
}`,
    `type AuthPayload {
  accessToken: String
  refreshToken: String
  expiresIn: String
  user: User
}`,
  ]) {
    assert.ok(printed.includes(block), `printSchema lacks:\n${block}`);
  }
  assert.match(printed, /^scalar Time$/m);
  assert.match(printed, /^scalar JSON$/m);

  // The root fields of the collections and of auth, exactly and in
  // order; other root fields (files, ...) are not this test's business.
  const ours = /^(me|signUp|login|refreshToken|logout)$|^(notes|posts)|(Notes|Posts)$/;
  const fields = (typeName) => {
    const t = schema.getType(typeName);
    return Object.values(t.getFields())
      .filter((f) => ours.test(f.name))
      .map((f) => `${f.name}${f.args.length ? `(${f.args.map((a) => `${a.name}: ${a.type}`).join(', ')})` : ''}: ${f.type}`);
  };
  assert.deepEqual(fields('Query'), [
    'me: User',
    'notes(filter: NotesFilter, sort: [NotesSort!], limit: Int, skip: Int): [Notes!]!',
    'notesById(id: ID!): Notes',
    'notesCount(filter: NotesFilter): Int!',
    'notesPage(filter: NotesFilter, sort: [NotesSort!], first: Int, after: String): NotesPage!',
    'posts(filter: PostsFilter, sort: [PostsSort!], limit: Int, skip: Int): [Posts!]!',
    'postsById(id: ID!): Posts',
    'postsCount(filter: PostsFilter): Int!',
    'postsPage(filter: PostsFilter, sort: [PostsSort!], first: Int, after: String): PostsPage!',
  ]);
  assert.deepEqual(fields('Mutation'), [
    'signUp(email: String!, password: String!, name: String, username: String): AuthPayload!',
    'login(email: String!, password: String!): AuthPayload!',
    'refreshToken(refreshToken: String!): AuthPayload!',
    'logout(refreshToken: String): Boolean!',
    'insertNotes(doc: NotesInput!): Notes!',
    'insertManyNotes(docs: [NotesInput!]!): [Notes!]!',
    'updateNotes(id: ID!, set: NotesPatch!): Notes!',
    'replaceNotes(id: ID!, doc: NotesInput!): Notes!',
    'deleteNotes(id: ID!): Notes!',
    'insertPosts(doc: PostsInput!): Posts!',
    'insertManyPosts(docs: [PostsInput!]!): [Posts!]!',
    'updatePosts(id: ID!, set: PostsPatch!): Posts!',
    'replacePosts(id: ID!, doc: PostsInput!): Posts!',
    'deletePosts(id: ID!): Posts!',
  ]);
  assert.deepEqual(fields('Subscription'), [
    'notesChanged(filter: NotesFilter): NotesChange!',
    'postsChanged(filter: PostsFilter): PostsChange!',
  ]);
  // The users collection is never a data collection here.
  assert.equal(schema.getType('Users'), undefined);

  // validate: a real query passes, mistakes get graphql-js's own errors.
  const good = parse(`query($min: Float, $after: String) {
    posts(filter: {or: [{views: {gte: $min}}, {tags: {in: ["go"]}}]}, sort: [{field: views, order: DESC}], limit: 5) {
      _id title tags createdAt
    }
    postsPage(first: 2, after: $after) { items { _id } endCursor hasNextPage }
    postsCount(filter: {published: {eq: true}})
  }`);
  assert.deepEqual(validate(schema, good), []);
  const bad = parse(`{
    posts(limit: "5", sort: [{field: nope}]) { _id body }
    postsById { title }
  }`);
  assert.deepEqual(validate(schema, bad).map((e) => e.message), [
    'Int cannot represent non-integer value: "5"',
    'Value "nope" does not exist in "PostsSortField" enum.',
    'Cannot query field "body" on type "Posts".',
    'Field "postsById" argument "id" of type "ID!" is required, but it was not provided.',
  ]);
});

// --------------------------------------------------- queries and mutations

const posts = {};

test('mutations and queries over fetch (POST /graphql)', async () => {
  const insert = `mutation($doc: PostsInput!) {
    insertPosts(doc: $doc) { _id title views published tags createdAt updatedAt }
  }`;
  for (const [name, doc] of [
    ['go', { title: 'Go', views: 10, published: true, tags: ['go', 'db'] }],
    ['js', { title: 'JS', views: 3, published: false, tags: ['js'] }],
    ['rust', { title: 'Rust', views: 7 }],
  ]) {
    await sleep(15); // distinct createdAt: the default order is certain
    const d = await ok({ key: sk }, insert, { doc });
    const p = d.insertPosts;
    assert.match(p._id, OBJECT_ID);
    assert.match(p.createdAt, ISO_MS);
    assert.deepEqual(p, {
      _id: p._id,
      title: doc.title,
      views: doc.views,
      published: doc.published ?? null,
      tags: doc.tags ?? [],
      createdAt: p.createdAt,
      updatedAt: p.createdAt,
    });
    posts[name] = p;
  }

  // The publishable key reads.
  const q = `query($id: ID!, $missing: ID!) {
    newest: posts(limit: 2) { title }
    popular: posts(sort: [{field: views, order: DESC}], filter: {views: {gte: 5}}) { title views }
    tagged: posts(filter: {tags: {eq: "go"}}) { _id }
    one: postsById(id: $id) { _id title tags }
    missing: postsById(id: $missing) { _id }
    total: postsCount
    unpublished: postsCount(filter: {not: {published: {eq: true}}})
    page: postsPage(first: 2, sort: [{field: title}]) { items { title } hasNextPage }
  }`;
  const d = await ok({ key: pk }, q, { id: posts.go._id, missing: UNKNOWN_ID });
  assert.deepEqual(d, {
    newest: [{ title: 'Rust' }, { title: 'JS' }],
    popular: [{ title: 'Go', views: 10 }, { title: 'Rust', views: 7 }],
    tagged: [{ _id: posts.go._id }],
    one: { _id: posts.go._id, title: 'Go', tags: ['go', 'db'] },
    missing: null,
    total: 3,
    unpublished: 2,
    page: { items: [{ title: 'Go' }, { title: 'JS' }], hasNextPage: true },
  });

  // GET works too, for queries.
  const res = await fetch(`${baseUrl}/graphql?query=${encodeURIComponent('{ postsCount }')}`, { headers: { 'x-api-key': pk } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { data: { postsCount: 3 } });

  // update patches, replace replaces, delete returns the document.
  await sleep(5);
  const upd = await ok({ key: sk }, `mutation($id: ID!) { updatePosts(id: $id, set: {views: 11}) { title views tags updatedAt } }`, { id: posts.go._id });
  assert.equal(upd.updatePosts.title, 'Go');
  assert.equal(upd.updatePosts.views, 11);
  assert.deepEqual(upd.updatePosts.tags, ['go', 'db']);
  assert.ok(upd.updatePosts.updatedAt > posts.go.updatedAt);
  const rep = await ok({ key: sk }, `mutation($id: ID!) { replacePosts(id: $id, doc: {title: "Rust 2"}) { title views tags } }`, { id: posts.rust._id });
  assert.deepEqual(rep, { replacePosts: { title: 'Rust 2', views: null, tags: [] } });
  const del = await ok({ key: sk }, `mutation($id: ID!) { deletePosts(id: $id) { _id title } }`, { id: posts.js._id });
  assert.deepEqual(del, { deletePosts: { _id: posts.js._id, title: 'JS' } });
  assert.deepEqual(await ok({ key: pk }, '{ posts(sort: [{field: title}]) { title views } }'), {
    posts: [{ title: 'Go', views: 11 }, { title: 'Rust 2', views: null }],
  });

  // The REST API sees the same data.
  assert.deepEqual((await skClient.db.getOne('posts', posts.go._id)).views, 11);
});

test('GraphQL errors carry the REST message, code and status', async () => {
  let r = await gql({}, '{ postsCount }');
  assert.equal(r.status, 401);
  assert.deepEqual(r.body, {
    data: null,
    errors: [{ message: 'API key not found', extensions: { code: 'UNAUTHENTICATED', status: 401 } }],
  });

  r = await gql({ key: pk }, '{ postsById(id: "nope") { _id } }');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, {
    data: { postsById: null },
    errors: [{ message: 'Invalid ID format.', path: ['postsById'], extensions: { code: 'BAD_USER_INPUT', status: 400 } }],
  });

  // Private notes: anonymous reads are refused; the owner reads their own.
  r = await gql({ key: pk }, '{ notes { text } }');
  assert.deepEqual(r.body, {
    data: null,
    errors: [{ message: 'Provide a valid user Bearer token for private reads.', path: ['notes'], extensions: { code: 'UNAUTHENTICATED', status: 401 } }],
  });
  assert.deepEqual(await ok({ key: pk, token: userToken }, '{ notes { text } notesCount }'), { notes: [], notesCount: 0 });

  // A validation error of the document.
  r = await gql({ key: pk }, '{ posts { body } }');
  assert.equal(r.status, 422);
  assert.equal(r.body.errors.length, 1);
  assert.equal(r.body.errors[0].message, 'Cannot query field "body" on type "Posts".');
  assert.equal(r.body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
});

// ------------------------------------------------------------ subscriptions

let client;

after(async () => {
  await client?.dispose();
});

// subscription starts a subscription on client and returns a reader:
// next() resolves with the next result, ends on error or completion.
function subscription(c, payload) {
  const queue = [];
  const waiters = [];
  const push = (item) => {
    const w = waiters.shift();
    if (w) w(item);
    else queue.push(item);
  };
  const unsubscribe = c.subscribe(payload, {
    next: (value) => push({ value }),
    error: (error) => push({ error }),
    complete: () => push({ done: true }),
  });
  return {
    unsubscribe,
    next(timeoutMs = 10000) {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const waiter = (item) => {
          clearTimeout(t);
          resolve(item);
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1); // the next event is not lost
          reject(new Error(`no event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}

// live waits until sub, a subscription to notesChanged or postsChanged,
// is registered on the server: the protocol has no acknowledgement, so it
// writes probe documents (with write) until one arrives, then drains the
// events of the probes written meanwhile (delivery follows write order).
async function live(sub, write) {
  const probes = [];
  let first;
  for (let i = 0; i < 100 && !first; i++) {
    probes.push(await write(i));
    first = await sub.next(100).catch(() => undefined);
  }
  assert.ok(first, 'the subscription never went live');
  let got = first;
  for (;;) {
    assert.equal(got.error, undefined, JSON.stringify(got.error));
    const change = Object.values(got.value.data)[0];
    assert.equal(change.op, 'INSERT');
    if (change.id === probes[probes.length - 1]) return;
    got = await sub.next();
  }
}

test('subscriptions over graphql-ws receive inserts made through the REST API', async () => {
  const closed = [];
  client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-api-key': pk, Authorization: `Bearer ${userToken}` },
    lazy: false,
    retryAttempts: 0,
    on: { closed: (e) => closed.push(e.code) },
  });

  // Every post, with the fields asked for.
  const all = subscription(client, { query: 'subscription { postsChanged { op id doc { title views tags } } }' });
  await live(all, async (i) => (await skClient.db.insert('posts', { title: `probe ${i}` }))._id);

  const inserted = await skClient.db.insert('posts', { title: 'Live', views: 42, tags: ['ws'] });
  assert.deepEqual(await all.next(), {
    value: { data: { postsChanged: { op: 'INSERT', id: inserted._id, doc: { title: 'Live', views: 42, tags: ['ws'] } } } },
  });
  await skClient.db.update('posts', inserted._id, { views: 43 });
  assert.deepEqual(await all.next(), {
    value: { data: { postsChanged: { op: 'UPDATE', id: inserted._id, doc: { title: 'Live', views: 43, tags: ['ws'] } } } },
  });
  await skClient.db.delete('posts', inserted._id);
  assert.deepEqual(await all.next(), {
    value: { data: { postsChanged: { op: 'DELETE', id: inserted._id, doc: null } } },
  });
  all.unsubscribe();

  // Private notes, with a filter: the user hears only of their own notes
  // that match, whoever writes them.
  const mine = subscription(client, {
    query: `subscription($re: String) { notesChanged(filter: {text: {regex: $re}}) { op id doc { text userId } } }`,
    variables: { re: '^(probe|hello)' },
  });
  await live(mine, async (i) => (await skClient.db.insert('notes', { text: `probe ${i}`, userId }))._id);
  await skClient.db.insert('notes', { text: 'hello bob', userId: otherUserId });
  await skClient.db.insert('notes', { text: 'not matching', userId });
  const note = await skClient.db.insert('notes', { text: 'hello ann', userId });
  assert.deepEqual(await mine.next(), {
    value: { data: { notesChanged: { op: 'INSERT', id: note._id, doc: { text: 'hello ann', userId } } } },
  });
  mine.unsubscribe();

  // Anonymous subscribers of a private collection are refused.
  const anon = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { 'x-api-key': pk }, retryAttempts: 0 });
  try {
    const refused = subscription(anon, { query: 'subscription { notesChanged { op } }' });
    // An execution error: a next message with the error, then complete.
    assert.deepEqual(await refused.next(), {
      value: {
        data: null,
        errors: [
          { message: 'Provide a valid user Bearer token for private reads.', path: ['notesChanged'], extensions: { code: 'UNAUTHENTICATED', status: 401 } },
        ],
      },
    });
    assert.deepEqual(await refused.next(), { done: true });
  } finally {
    await anon.dispose();
  }

  // A bad key ends the connection with close code 4401.
  const badClosed = [];
  const bad = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-api-key': 'pk_live_nope' },
    retryAttempts: 0,
    on: { closed: (e) => badClosed.push(e.code) },
  });
  try {
    const s = subscription(bad, { query: 'subscription { postsChanged { op } }' });
    const got = await s.next();
    // graphql-ws hands the close event to the sink's error.
    assert.equal(got.error?.code, 4401, `got ${JSON.stringify(got)}`);
    assert.equal(got.error.reason, 'API key is expired or invalid.'); // the REST message
    assert.deepEqual(badClosed, [4401]);
  } finally {
    await bad.dispose();
  }
  assert.deepEqual(closed, []);
});
