// Compatibility test of the Go server against the real TypeScript client,
// @urbackend/sdk 0.4.8 (contract/REST.md §10.1, §3, §4.1).
//
// Run through compat/run.sh, which starts a fresh server and sets
// UB_COMPAT_URL, UB_COMPAT_ADMIN_EMAIL and UB_COMPAT_ADMIN_PASSWORD.
// The project and its collections are created with the admin GraphQL API;
// everything else goes through the SDK's db and schema modules, with the
// secret key (server-side usage) and the publishable key.
//
// The tests share one data set and run in file order.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import urBackend, {
  AuthError,
  NotFoundError,
  UrBackendError,
  ValidationError,
} from '@urbackend/sdk';

const baseUrl = required('UB_COMPAT_URL');
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
// A valid ObjectId that no document has.
const UNKNOWN_ID = '0123456789abcdef01234567';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let adminToken = '';

async function gql(query, variables = {}) {
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

async function defineCollection(projectId, input) {
  const data = await gql(
    `mutation($pid: ID!, $in: CollectionInput!) {
       defineCollection(projectId: $pid, input: $in) { name documentCount }
     }`,
    { pid: projectId, in: input },
  );
  assert.deepEqual(data.defineCollection, { name: input.name, documentCount: 0 });
}

// expectError returns a check for assert.rejects: the error is exactly of
// class cls (not a subclass), with the status code, message and endpoint.
function expectError(cls, { statusCode, message, endpoint }) {
  return (err) => {
    assert.equal(err.constructor, cls, `expected ${cls.name}, got ${err?.name}: ${err?.message}`);
    assert.ok(err instanceof UrBackendError);
    assert.equal(err.name, cls.name);
    assert.equal(err.message, message);
    assert.equal(err.statusCode, statusCode);
    assert.equal(err.endpoint, endpoint);
    return true;
  };
}

const ids = (docs) => docs.map((d) => d._id);
const withoutV = ({ __v, ...rest }) => rest;

function assertStoredDoc(doc, expected) {
  assert.match(doc._id, OBJECT_ID);
  assert.match(doc.createdAt, ISO_MS);
  assert.equal(doc.updatedAt, doc.createdAt);
  assert.deepEqual(doc, {
    _id: doc._id,
    ...expected,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    __v: 0,
  });
}

// ----------------------------------------------------------------- set-up

let sk; // client with the secret key
let pk; // client with the publishable key
let projectId;
let publishableKey;
let secretKey;

// Documents as the server returned them on insert.
const authors = {};
const posts = {};

before(async () => {
  const login = await gql(
    `mutation($e: String!, $p: String!) { adminLogin(email: $e, password: $p) { token } }`,
    { e: adminEmail, p: adminPassword },
  );
  adminToken = login.adminLogin.token;
  assert.ok(adminToken);

  const created = await gql(
    `mutation { createProject(input: {name: "SDK compat"}) { secretKey project { id publishableKey } } }`,
  );
  projectId = created.createProject.project.id;
  publishableKey = created.createProject.project.publishableKey;
  secretKey = created.createProject.secretKey;
  assert.match(publishableKey, /^pk_live_/);
  assert.match(secretKey, /^sk_live_/);

  await defineCollection(projectId, {
    name: 'authors',
    fields: [{ key: 'name', type: 'String', required: true }],
  });
  await defineCollection(projectId, {
    name: 'posts',
    fields: [
      { key: 'title', type: 'String', required: true, unique: true },
      { key: 'views', type: 'Number', default: 0 },
      { key: 'tags', type: 'Array', items: { type: 'String' } },
      { key: 'author', type: 'Ref', ref: 'authors' },
      { key: 'published', type: 'Boolean' },
    ],
  });
  // RLS on, public reads: publishable-key writes need a user token.
  await defineCollection(projectId, {
    name: 'notes',
    fields: [{ key: 'text', type: 'String' }],
    rls: { enabled: true, mode: 'PUBLIC_READ' },
  });

  sk = urBackend({ apiKey: secretKey, baseUrl });
  pk = urBackend({ apiKey: publishableKey, baseUrl });
});

// ----------------------------------------------------------------- schema

test('schema.getSchema returns the collection definition (secret and publishable key)', async () => {
  const expected = {
    name: 'posts',
    model: [
      { key: 'title', type: 'String', required: true, unique: true, fields: [] },
      { key: 'views', type: 'Number', required: false, unique: false, default: 0, fields: [] },
      { key: 'tags', type: 'Array', required: false, unique: false, items: { type: 'String' }, fields: [] },
      { key: 'author', type: 'Ref', required: false, unique: false, ref: 'authors', fields: [] },
      { key: 'published', type: 'Boolean', required: false, unique: false, fields: [] },
    ],
    rls: { enabled: false, mode: 'public-read', ownerField: 'userId', requireAuthForWrite: true },
  };
  const viaSk = await sk.schema.getSchema('posts');
  assert.match(viaSk._id, OBJECT_ID);
  assert.deepEqual(viaSk, { _id: viaSk._id, ...expected });

  const viaPk = await pk.schema.getSchema('  posts  '); // the SDK trims the name
  assert.deepEqual(viaPk, viaSk);

  const notes = await pk.schema.getSchema('notes');
  assert.deepEqual(notes.rls, { enabled: true, mode: 'public-read', ownerField: 'userId', requireAuthForWrite: true });
});

test('schema.getSchema of a missing collection is a NotFoundError', async () => {
  await assert.rejects(
    sk.schema.getSchema('nope'),
    expectError(NotFoundError, { statusCode: 404, message: 'Schema/Collection not found', endpoint: '/api/schemas/nope' }),
  );
  await assert.rejects(sk.schema.getSchema('   '), (err) => {
    assert.equal(err.constructor, Error);
    assert.equal(err.message, 'Collection name cannot be empty or whitespace-only');
    return true;
  });
});

// ----------------------------------------------------------------- insert

test('db.insert stores documents and returns them raw with _id, defaults and timestamps', async () => {
  authors.ada = await sk.db.insert('authors', { name: 'Ada' });
  assertStoredDoc(authors.ada, { name: 'Ada' });
  await sleep(15);
  authors.grace = await sk.db.insert('authors', { name: 'Grace' });
  assertStoredDoc(authors.grace, { name: 'Grace' });
  assert.notEqual(authors.grace._id, authors.ada._id);

  const input = {
    first: { title: 'First', views: 1, tags: ['go', 'db'], author: authors.ada._id, published: true },
    second: { title: 'Second', views: 10, tags: ['js'], author: authors.grace._id, published: false },
    third: { title: 'Third', views: 20, tags: ['go'], author: authors.ada._id, published: true },
  };
  for (const [name, body] of Object.entries(input)) {
    await sleep(15); // distinct createdAt, so the default sort is certain
    posts[name] = await sk.db.insert('posts', body);
    assertStoredDoc(posts[name], body);
  }

  await sleep(15);
  // Top-level strings are trimmed; views gets its default, tags becomes [].
  posts.fourth = await sk.db.insert('posts', { title: '  Fourth  ' });
  assertStoredDoc(posts.fourth, { title: 'Fourth', views: 0, tags: [] });

  assert.equal(new Set(ids(Object.values(posts))).size, 4);
});

test('db.insert validation errors are ValidationError (400) with the exact message', async () => {
  const cases = [
    [{ views: 3 }, "Field 'title' is required."],
    [{ title: null }, "Field 'title' is required."],
    [{ title: 42 }, "Field 'title' must be a String."],
    [{ title: 'V1', views: '5' }, "Field 'views' must be a Number."],
    [{ title: 'V2', tags: 'go' }, "Field 'tags' must be an Array."],
    [{ title: 'V3', tags: ['ok', 7] }, "Field 'tags[1]' must be a String."],
    [{ title: 'V4', author: 'nobody' }, "Field 'author' must be a valid reference ID (ObjectId)."],
    [{ title: 'V5', published: 'yes' }, "Field 'published' must be a Boolean."],
  ];
  for (const [body, message] of cases) {
    await assert.rejects(
      sk.db.insert('posts', body),
      expectError(ValidationError, { statusCode: 400, message, endpoint: '/api/data/posts' }),
      JSON.stringify(body),
    );
  }
  assert.equal(await sk.db.count('posts'), 4);
});

test('db.insert of a duplicate unique value is a 409 UrBackendError', async () => {
  for (const title of ['First', '  First ']) {
    await assert.rejects(
      sk.db.insert('posts', { title }),
      expectError(UrBackendError, {
        statusCode: 409,
        message: 'Duplicate value violates unique constraint.',
        endpoint: '/api/data/posts',
      }),
    );
  }
  assert.equal(await sk.db.count('posts'), 4);
});

test('db.insert with the publishable key is refused without RLS (AuthError 403)', async () => {
  await assert.rejects(
    pk.db.insert('posts', { title: 'From the browser' }),
    expectError(AuthError, {
      statusCode: 403,
      message: 'Enable RLS for this collection to allow publishable-key writes.',
      endpoint: '/api/data/posts',
    }),
  );
  // With RLS on, a publishable-key write needs a user token (401; the SDK's
  // silent refresh finds no refresh token and reports the original 401).
  await assert.rejects(
    pk.db.insert('notes', { text: 'hello' }),
    expectError(AuthError, {
      statusCode: 401,
      message: 'Provide a valid user Bearer token for write operations.',
      endpoint: '/api/data/notes',
    }),
  );
  assert.equal(await sk.db.count('posts'), 4);
  assert.equal(await sk.db.count('notes'), 0);
});

// ------------------------------------------------------------------- list

test('db.getAll without parameters returns every document, newest first', async () => {
  const all = await sk.db.getAll('posts');
  assert.deepEqual(ids(all), ids([posts.fourth, posts.third, posts.second, posts.first]));
  // List items are the stored documents, as insert returned them.
  assert.deepEqual(all, [posts.fourth, posts.third, posts.second, posts.first]);
});

test('db.getAll filter operators, sort, limit and page', async () => {
  const { first, second, third, fourth } = posts;
  const cases = [
    [{ filter: { views_gt: 5 }, sort: 'views:desc' }, [third, second]],
    [{ filter: { views_gt: 5 }, sort: '-views' }, [third, second]],
    [{ filter: { views_gte: 1, views_lt: 20 }, sort: 'views' }, [first, second]],
    [{ filter: { views_lte: 1 }, sort: 'views:asc' }, [fourth, first]],
    [{ filter: { views_ne: 10 }, sort: 'views:1' }, [fourth, first, third]],
    [{ filter: { views_in: '0,20' }, sort: 'views:-1' }, [third, fourth]],
    [{ filter: { published: true }, sort: 'title' }, [first, third]],
    [{ filter: { published: false } }, [second]],
    [{ filter: { published_exists: false } }, [fourth]],
    [{ filter: { tags: 'go' }, sort: 'views' }, [first, third]],
    [{ filter: { title_regex: '^s' } }, [second]],
    [{ filter: { author: authors.ada._id }, sort: '-views' }, [third, first]],
    [{ filter: { title: 'Fourth' } }, [fourth]],
    [{ filter: { title: 'nothing' } }, []],
    [{ sort: 'views', limit: 2 }, [fourth, first]],
    [{ sort: 'views', limit: 2, page: 2 }, [second, third]],
    [{ sort: 'views', limit: 2, page: 3 }, []],
    [{ sort: '-views', limit: 1 }, [third]],
    [{ sort: 'published:desc,views:asc', limit: 3 }, [first, third, second]],
  ];
  for (const [params, expected] of cases) {
    const got = await sk.db.getAll('posts', params);
    assert.deepEqual(ids(got), ids(expected), JSON.stringify(params));
  }
});

test('db.getAll with populate and expand resolves Ref fields', async () => {
  const { first, second, third, fourth } = posts;
  const expected = [
    fourth, // no author: left out, not invented
    { ...first, author: authors.ada },
    { ...second, author: authors.grace },
    { ...third, author: authors.ada },
  ];
  assert.deepEqual(await sk.db.getAll('posts', { populate: ['author'], sort: 'views' }), expected);
  assert.deepEqual(await sk.db.getAll('posts', { expand: ['author'], sort: 'views' }), expected);
  assert.deepEqual(await sk.db.getAll('posts', { populate: 'author', sort: 'views' }), expected);
});

test('db.getAll query errors are ValidationError (400)', async () => {
  await assert.rejects(
    sk.db.getAll('posts', { filter: { views_exists: 'maybe' } }),
    expectError(ValidationError, {
      statusCode: 400,
      message: 'Invalid value for "views_exists"; expected "true" or "false".',
      endpoint: '/api/data/posts',
    }),
  );
  // A value that does not convert to the field's type: 400 (the original
  // answered 500; the contract asks for a clear 400).
  await assert.rejects(
    sk.db.getAll('posts', { filter: { views_gt: 'lots' } }),
    expectError(ValidationError, {
      statusCode: 400,
      message: 'Invalid value "lots" for "views_gt"; expected a number.',
      endpoint: '/api/data/posts',
    }),
  );
  await assert.rejects(
    sk.db.count('posts', { filter: { author: 'nobody' } }),
    expectError(ValidationError, {
      statusCode: 400,
      message: 'Invalid value "nobody" for "author"; expected a 24-character hex ID.',
      endpoint: '/api/data/posts',
    }),
  );
});

test('db.getAll on a missing collection returns []', async () => {
  assert.deepEqual(await sk.db.getAll('missing'), []);
  assert.deepEqual(await pk.db.getAll('missing', { limit: 5 }), []);
});

test('db.getAll on the users collection is refused (AuthError 403)', async () => {
  await assert.rejects(
    sk.db.getAll('users'),
    expectError(AuthError, {
      statusCode: 403,
      message: 'Use /api/userAuth endpoints for users collection operations.',
      endpoint: '/api/data/users',
    }),
  );
});

// ------------------------------------------------------------------ count

test('db.count counts with filters', async () => {
  assert.equal(await sk.db.count('posts'), 4);
  assert.equal(await sk.db.count('posts', { filter: { views_gte: 10 } }), 2);
  assert.equal(await sk.db.count('posts', { filter: { published: false } }), 1);
  assert.equal(await sk.db.count('posts', { filter: { tags: 'go' } }), 2);
  // page/limit/sort are ignored by a count
  assert.equal(await sk.db.count('posts', { limit: 1, page: 3, sort: 'views' }), 4);
  assert.equal(await sk.db.count('authors'), 2);
  assert.equal(await sk.db.count('notes'), 0);
  await assert.rejects(
    sk.db.count('missing'),
    expectError(NotFoundError, { statusCode: 404, message: 'Collection not found', endpoint: '/api/data/missing' }),
  );
});

// ---------------------------------------------------------------- get one

test('db.getOne returns the raw document, without __v', async () => {
  assert.deepEqual(await sk.db.getOne('posts', posts.first._id), withoutV(posts.first));
  assert.deepEqual(await sk.db.getOne('posts', posts.fourth._id), withoutV(posts.fourth));
  assert.deepEqual(await sk.db.getOne('authors', authors.grace._id), withoutV(authors.grace));
});

test('db.getOne with populate resolves the Ref', async () => {
  assert.deepEqual(
    await sk.db.getOne('posts', posts.second._id, { populate: 'author' }),
    { ...withoutV(posts.second), author: authors.grace },
  );
  assert.deepEqual(
    await sk.db.getOne('posts', posts.third._id, { expand: ['author'] }),
    { ...withoutV(posts.third), author: authors.ada },
  );
  await assert.rejects(
    sk.db.getOne('posts', posts.first._id, { populate: 'nope' }),
    expectError(ValidationError, {
      statusCode: 400,
      message: 'Cannot populate "nope": it is not a field of this collection.',
      endpoint: `/api/data/posts/${posts.first._id}`,
    }),
  );
});

test('db.getOne of an unknown id is a NotFoundError; a malformed id a ValidationError', async () => {
  await assert.rejects(
    sk.db.getOne('posts', UNKNOWN_ID),
    expectError(NotFoundError, { statusCode: 404, message: 'Document not found.', endpoint: `/api/data/posts/${UNKNOWN_ID}` }),
  );
  await assert.rejects(
    pk.db.getOne('posts', UNKNOWN_ID),
    expectError(NotFoundError, { statusCode: 404, message: 'Document not found.', endpoint: `/api/data/posts/${UNKNOWN_ID}` }),
  );
  await assert.rejects(
    sk.db.getOne('posts', 'not-an-id'),
    expectError(ValidationError, { statusCode: 400, message: 'Invalid ID format.', endpoint: '/api/data/posts/not-an-id' }),
  );
  await assert.rejects(
    sk.db.getOne('missing', UNKNOWN_ID),
    expectError(NotFoundError, { statusCode: 404, message: 'Collection not found', endpoint: `/api/data/missing/${UNKNOWN_ID}` }),
  );
});

// ------------------------------------------------------- publishable reads

test('publishable key reads collections without RLS', async () => {
  assert.deepEqual(await pk.db.getAll('posts', { sort: 'views' }), await sk.db.getAll('posts', { sort: 'views' }));
  assert.deepEqual(ids(await pk.db.getAll('posts', { filter: { views_gt: 5 }, sort: 'views:desc' })), ids([posts.third, posts.second]));
  assert.equal(await pk.db.count('posts'), 4);
  assert.deepEqual(await pk.db.getOne('posts', posts.first._id), withoutV(posts.first));
  assert.deepEqual(
    await pk.db.getOne('posts', posts.first._id, { populate: ['author'] }),
    { ...withoutV(posts.first), author: authors.ada },
  );
  assert.deepEqual(await pk.db.getAll('notes'), []);
});

// ----------------------------------------------------------------- update

test('db.update (PUT) sets the given fields and returns the document', async () => {
  const before = posts.second;
  await sleep(15);
  const got = await sk.db.update('posts', before._id, { views: 11, extra: 'kept as sent' });
  assert.match(got.updatedAt, ISO_MS);
  assert.ok(got.updatedAt > before.updatedAt, `updatedAt ${got.updatedAt} must move past ${before.updatedAt}`);
  assert.deepEqual(got, { ...before, views: 11, extra: 'kept as sent', updatedAt: got.updatedAt });
  assert.deepEqual(await sk.db.getOne('posts', before._id), withoutV(got));
  posts.second = got;
});

test('db.patch (PATCH) sets the given fields and returns the document', async () => {
  const before = posts.fourth;
  await sleep(15);
  const got = await sk.db.patch('posts', before._id, {
    published: true,
    tags: ['ts', 'go'],
    author: authors.grace._id,
    title: '  Fourth, edited ',
  });
  assert.ok(got.updatedAt > before.updatedAt);
  assert.deepEqual(got, {
    ...before,
    title: 'Fourth, edited',
    published: true,
    tags: ['ts', 'go'],
    author: authors.grace._id,
    updatedAt: got.updatedAt,
  });
  assert.deepEqual(await sk.db.getOne('posts', before._id), withoutV(got));
  posts.fourth = got;
  // The filters see the change.
  assert.deepEqual(ids(await sk.db.getAll('posts', { filter: { tags: 'go' }, sort: 'views' })), ids([posts.fourth, posts.first, posts.third]));
  assert.equal(await sk.db.count('posts', { filter: { published: true } }), 3);
});

test('db.update and db.patch errors', async () => {
  const path = `/api/data/posts/${posts.first._id}`;
  await assert.rejects(
    sk.db.patch('posts', posts.first._id, { views: 'many' }),
    expectError(ValidationError, { statusCode: 400, message: "Field 'views' must be a Number.", endpoint: path }),
  );
  await assert.rejects(
    sk.db.update('posts', posts.first._id, { title: 'Third' }),
    expectError(UrBackendError, { statusCode: 409, message: 'Duplicate value violates unique constraint.', endpoint: path }),
  );
  await assert.rejects(
    sk.db.update('posts', UNKNOWN_ID, { views: 1 }),
    expectError(NotFoundError, { statusCode: 404, message: 'Document not found.', endpoint: `/api/data/posts/${UNKNOWN_ID}` }),
  );
  await assert.rejects(
    sk.db.patch('posts', 'not-an-id', { views: 1 }),
    expectError(ValidationError, { statusCode: 400, message: 'Invalid ID format.', endpoint: '/api/data/posts/not-an-id' }),
  );
  for (const call of [
    () => pk.db.update('posts', posts.first._id, { views: 99 }),
    () => pk.db.patch('posts', posts.first._id, { views: 99 }),
    () => pk.db.delete('posts', posts.first._id),
  ]) {
    await assert.rejects(
      call(),
      expectError(AuthError, {
        statusCode: 403,
        message: 'Enable RLS for this collection to allow publishable-key writes.',
        endpoint: path,
      }),
    );
  }
  // Nothing changed.
  assert.deepEqual(await sk.db.getOne('posts', posts.first._id), withoutV(posts.first));
});

// ----------------------------------------------------------------- delete

test('db.delete returns {deleted: true}; the document is gone', async () => {
  assert.deepEqual(await sk.db.delete('posts', posts.third._id), { deleted: true });
  await assert.rejects(
    sk.db.getOne('posts', posts.third._id),
    expectError(NotFoundError, { statusCode: 404, message: 'Document not found.', endpoint: `/api/data/posts/${posts.third._id}` }),
  );
  await assert.rejects(
    sk.db.delete('posts', posts.third._id),
    expectError(NotFoundError, { statusCode: 404, message: 'Document not found.', endpoint: `/api/data/posts/${posts.third._id}` }),
  );
  await assert.rejects(
    sk.db.delete('posts', 'not-an-id'),
    expectError(ValidationError, { statusCode: 400, message: 'Invalid ID format.', endpoint: '/api/data/posts/not-an-id' }),
  );
  assert.equal(await sk.db.count('posts'), 3);
  assert.deepEqual(ids(await sk.db.getAll('posts')), ids([posts.fourth, posts.second, posts.first]));
  // The freed unique value can be used again.
  const again = await sk.db.insert('posts', { title: 'Third' });
  assertStoredDoc(again, { title: 'Third', views: 0, tags: [] });
  assert.deepEqual(await sk.db.delete('posts', again._id), { deleted: true });
});

test('populate of a deleted target gives null', async () => {
  assert.deepEqual(await sk.db.delete('authors', authors.grace._id), { deleted: true });
  assert.deepEqual(
    await sk.db.getOne('posts', posts.second._id, { populate: 'author' }),
    { ...withoutV(posts.second), author: null },
  );
  assert.deepEqual(
    await sk.db.getAll('posts', { populate: ['author'], sort: 'views' }),
    [
      { ...posts.fourth, author: null },
      { ...posts.first, author: authors.ada },
      { ...posts.second, author: null },
    ],
  );
});

test('a wrong API key is an AuthError (401)', async () => {
  const bogus = urBackend({ apiKey: `sk_live_${'x'.repeat(43)}`, baseUrl });
  await assert.rejects(
    bogus.db.getAll('posts'),
    expectError(AuthError, { statusCode: 401, message: 'API key is expired or invalid.', endpoint: '/api/data/posts' }),
  );
});
