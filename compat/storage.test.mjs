// Compatibility test of the Go server's file storage against the real
// TypeScript client, @urbackend/sdk 0.4.8 (contract/REST.md §6, §10.1).
//
// Run through compat/run.sh, which starts a fresh server and sets
// UB_COMPAT_URL, UB_COMPAT_ADMIN_EMAIL and UB_COMPAT_ADMIN_PASSWORD. The
// project is created with the admin GraphQL API; files go through the
// unchanged SDK's storage module with the secret key (upload-request, a
// bare PUT of the raw bytes to the signed URL, upload-confirm; deleteFile),
// and the public links are fetched to compare the bytes.
//
// The tests share one project and run in file order.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import urBackend, { AuthError, StorageError, StorageModule, UrBackendError, ValidationError } from '@urbackend/sdk';

const baseUrl = required('UB_COMPAT_URL');
const adminEmail = required('UB_COMPAT_ADMIN_EMAIL');
const adminPassword = required('UB_COMPAT_ADMIN_PASSWORD');

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run compat/run.sh`);
  return v;
}

// ---------------------------------------------------------------- helpers

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

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

// expectError returns a check for assert.rejects: the error is exactly of
// class cls, with the status code, message and endpoint.
function expectError(cls, { statusCode, message, endpoint }) {
  return (err) => {
    assert.equal(err.constructor, cls, `expected ${cls.name}, got ${err?.name}: ${err?.message}`);
    assert.ok(err instanceof UrBackendError);
    assert.equal(err.message, message);
    assert.equal(err.statusCode, statusCode);
    assert.equal(err.endpoint, endpoint);
    return true;
  };
}

// assertPath checks a stored path's shape and returns it.
function assertPath(path, name) {
  assert.match(path, new RegExp(`^${projectId}/${UUID}_${name.replace(/[.]/g, '\\.')}$`));
  return path;
}

// confirmed is the exact body of upload-confirm for a path.
const confirmed = (path) => ({
  message: 'Upload confirmed',
  path,
  provider: 'internal',
  url: `${baseUrl}/files/${path.split('/').map(encodeURIComponent).join('/')}`,
});

async function download(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

// ----------------------------------------------------------------- set-up

let sk; // client with the secret key
let pk; // client with the publishable key
let projectId;

before(async () => {
  const login = await gql(
    `mutation($e: String!, $p: String!) { adminLogin(email: $e, password: $p) { token } }`,
    { e: adminEmail, p: adminPassword },
  );
  adminToken = login.adminLogin.token;
  const created = await gql(
    `mutation { createProject(input: {name: "storage compat"}) { secretKey project { id publishableKey } } }`,
  );
  projectId = created.createProject.project.id;
  sk = urBackend({ apiKey: created.createProject.secretKey, baseUrl });
  pk = urBackend({ apiKey: created.createProject.project.publishableKey, baseUrl });
});

// ----------------------------------------------------------------- upload

const uploaded = {};

test('storage.upload of a Buffer: request, raw PUT, confirm; the public link serves the bytes', async () => {
  const data = randomBytes(300 * 1024 + 17); // two chunks
  const res = await sk.storage.upload(data, 'hello world.bin');
  const path = assertPath(res.path, 'hello_world.bin');
  assert.deepEqual(res, confirmed(path));
  uploaded.buffer = { ...res, data };

  const { res: got, bytes } = await download(res.url);
  assert.equal(got.status, 200);
  assert.ok(bytes.equals(data), 'public link bytes differ');
  // A Buffer is declared application/octet-stream: served as a download.
  assert.equal(got.headers.get('content-type'), 'application/octet-stream');
  assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(got.headers.get('content-disposition'), 'attachment; filename=hello_world.bin');
  assert.equal(got.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.match(got.headers.get('etag'), /^"[^"]+"$/);
});

test('storage.upload of a Blob and of a File keeps their types and names', async () => {
  const png = randomBytes(5000);
  const blob = await sk.storage.upload(new Blob([png], { type: 'image/png' }), 'pixel.png');
  assert.deepEqual(blob, confirmed(assertPath(blob.path, 'pixel.png')));
  let { res, bytes } = await download(blob.url);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(res.headers.get('content-disposition'), 'inline; filename=pixel.png');
  assert.ok(bytes.equals(png));
  uploaded.blob = { ...blob, data: png };

  const text = 'Hello from a File';
  const file = await sk.storage.upload(new File([text], 'my notes.txt', { type: 'text/plain' }));
  assert.deepEqual(file, confirmed(assertPath(file.path, 'my_notes.txt')));
  ({ res, bytes } = await download(file.url));
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(bytes.toString(), text);

  // HTML is stored as declared, but served as an attachment.
  const html = await sk.storage.upload(new Blob(['<script>alert(1)</script>'], { type: 'text/html' }), 'x.html');
  ({ res } = await download(html.url));
  assert.equal(res.headers.get('content-type'), 'text/html');
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename=x.html');
});

test('public links answer ranges and revalidation', async () => {
  const { url, data } = uploaded.buffer;
  let { res, bytes } = await download(url, { Range: 'bytes=261100-261219' });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes 261100-261219/${data.length}`);
  assert.ok(bytes.equals(data.subarray(261100, 261220)));

  ({ res } = await download(url));
  const etag = res.headers.get('etag');
  ({ res, bytes } = await download(url, { 'If-None-Match': etag }));
  assert.equal(res.status, 304);
  assert.equal(bytes.length, 0);
});

test('the three steps one by one: requestUploadUrl, uploadToPresignedUrl, confirmUpload', async () => {
  const data = Buffer.from('step by step');
  const signed = await sk.storage.requestUploadUrl('steps.txt', 'text/plain', data.length);
  assert.deepEqual(Object.keys(signed).sort(), ['filePath', 'signedUrl', 'token']);
  assertPath(signed.filePath, 'steps.txt');
  assert.equal(signed.signedUrl, `${baseUrl}/api/storage/upload/${signed.token}`);

  // Not uploaded yet.
  await assert.rejects(
    sk.storage.confirmUpload(signed.filePath, data.length),
    expectError(StorageError, {
      statusCode: 409,
      message: 'Uploaded file is not visible yet. Please retry confirmation.',
      endpoint: '/api/storage/upload-confirm',
    }),
  );

  await StorageModule.uploadToPresignedUrl(data, signed.signedUrl, 'text/plain');

  const first = await sk.storage.confirmUpload(signed.filePath, data.length);
  assert.deepEqual(first, confirmed(signed.filePath));
  // Idempotent.
  assert.deepEqual(await sk.storage.confirmUpload(signed.filePath, data.length), first);

  // The signed URL was used up.
  await assert.rejects(StorageModule.uploadToPresignedUrl(data, signed.signedUrl, 'text/plain'), (err) => {
    assert.equal(err.constructor, Error);
    assert.equal(err.message, 'Direct upload to cloud failed: 403 Forbidden');
    return true;
  });
  const { bytes } = await download(first.url);
  assert.equal(bytes.toString(), 'step by step');
});

// ----------------------------------------------------------------- refusals

test('storage refusals reach the SDK with the contract messages', async () => {
  await assert.rejects(
    sk.storage.requestUploadUrl('big.bin', 'application/octet-stream', 10 * 1024 * 1024 + 1),
    expectError(StorageError, { statusCode: 413, message: 'File size exceeds limit.', endpoint: '/api/storage/upload-request' }),
  );
  await assert.rejects(
    sk.storage.requestUploadUrl('', 'text/plain', 1),
    // 400 maps to ValidationError before the storage check (§10.3).
    expectError(ValidationError, {
      statusCode: 400,
      message: 'filename, contentType, and size are required.',
      endpoint: '/api/storage/upload-request',
    }),
  );
  await assert.rejects(
    sk.storage.confirmUpload(`0123456789abcdef01234567/x.txt`, 1),
    expectError(AuthError, { statusCode: 403, message: 'Access denied.', endpoint: '/api/storage/upload-confirm' }),
  );
  await assert.rejects(
    sk.storage.deleteFile(`${projectId}/../0123456789abcdef01234567/x.txt`),
    expectError(AuthError, { statusCode: 403, message: 'Access denied.', endpoint: '/api/storage/file' }),
  );
  await assert.rejects(
    pk.storage.upload(Buffer.from('x'), 'x.txt'),
    expectError(AuthError, {
      statusCode: 403,
      message: 'Forbidden. This action requires a Secret Key (sk_live_...).',
      endpoint: '/api/storage/upload-request',
    }),
  );
});

// ----------------------------------------------------------------- delete

test('storage.deleteFile removes a file: deleted true, then false; the link is gone', async () => {
  const { path, url } = uploaded.blob;
  assert.deepEqual(await sk.storage.deleteFile(path), { message: 'File deleted successfully', deleted: true });
  assert.deepEqual(await sk.storage.deleteFile(path), { message: 'File deleted successfully', deleted: false });
  const res = await fetch(url);
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { success: false, error: 'File not found.', message: 'File not found.', code: 404 });
  // The other files are still there.
  const { bytes } = await download(uploaded.buffer.url);
  assert.ok(bytes.equals(uploaded.buffer.data));
});
