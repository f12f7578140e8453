// End-to-end tests of the dashboard in a real browser: Debian's Chromium,
// headless, driven by playwright-core.
//
// Run through e2e/run.sh, which starts a fresh server and sets UB_E2E_URL,
// UB_E2E_ADMIN_EMAIL and UB_E2E_ADMIN_PASSWORD. The steps share one
// browser page and one data set and run in file order: log in, create a
// project, define a collection (after a refused definition whose error
// shows next to its field), insert a document in the browser, find it in
// the data browser, generate traffic and watch the live analytics move,
// the same app at phone width, the users, authentication and webhooks
// views, a file uploaded through REST listed, opened and deleted in the
// files view, and deleting the project. A failed step saves a screenshot to
// e2e/screenshots/ and skips the steps after it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const baseUrl = required('UB_E2E_URL');
const adminEmail = required('UB_E2E_ADMIN_EMAIL');
const adminPassword = required('UB_E2E_ADMIN_PASSWORD');

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run e2e/run.sh`);
  return v;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const shotsDir = path.join(here, 'screenshots');
const TIMEOUT = 15000;

let userDataDir;
let context;
let page;
const problems = []; // script errors and CSP violations seen in the page
let broken = ''; // the first failed step: later ones depend on it

// What the steps learn and later steps use.
const shared = { projectId: '', publishableKey: '', secretKey: '' };

before(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'urbackend-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
});

after(async () => {
  if (context) await context.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

/** One dependent step: skipped after a failure, with a screenshot on its own. */
function step(name, fn) {
  test(name, async (t) => {
    if (broken) {
      t.skip(`skipped: "${broken}" failed`);
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      broken = name;
      await screenshot(name);
      throw err;
    }
  });
}

async function screenshot(name) {
  if (!page) return;
  try {
    fs.mkdirSync(shotsDir, { recursive: true });
    const file = path.join(shotsDir, `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.error(`# screenshot of the failure: ${path.relative(process.cwd(), file)}`);
  } catch (err) {
    console.error(`# could not take a screenshot: ${err.message}`);
  }
}

/** Calls the REST API as a client of the project would. */
async function rest(method, route, { key, body } = {}) {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { 'x-api-key': key, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function expectText(locator, pattern) {
  await locator.waitFor();
  await assert.doesNotReject(async () => {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const text = await locator.innerText();
      if (pattern.test(text)) return;
      if (Date.now() > deadline) throw new Error(`text ${JSON.stringify(text)} does not match ${pattern}`);
      await page.waitForTimeout(100);
    }
  });
}

// ---------------------------------------------------------------- steps

step('serves the app with its security headers', async () => {
  const res = await page.goto(`${baseUrl}/dashboard`);
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/dashboard/login', 'an anonymous visit lands on the login page');
  const headers = await res.allHeaders();
  assert.match(headers['content-security-policy'], /script-src 'self'/);
  assert.equal(headers['x-frame-options'], 'DENY');
});

step('logs in', async () => {
  await page.getByLabel('E-mail').fill(adminEmail);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expectText(page.getByRole('alert'), /wrong e-mail or password|invalid/i);

  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
  await page.getByText('No projects yet.').waitFor();
  const token = await page.evaluate(() => sessionStorage.getItem('urbackend.adminToken'));
  assert.ok(token, 'the admin token is in sessionStorage');
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
});

step('creates a project and shows its keys once', async () => {
  await page.getByRole('link', { name: 'New project' }).click();
  await page.getByRole('heading', { level: 1, name: 'New project' }).waitFor();
  // The server's validation error shows next to its field.
  await page.getByLabel('Name', { exact: true }).fill('E2E Shop');
  await page.getByLabel('Site URL (optional)').fill('not a url');
  await page.getByRole('button', { name: 'Create project' }).click();
  const siteUrl = page.getByLabel('Site URL (optional)');
  await expectText(page.locator('.field', { has: siteUrl }).locator('.field-error'), /siteUrl must be an absolute http\(s\) URL/);
  assert.equal(await siteUrl.getAttribute('aria-invalid'), 'true');

  await siteUrl.fill('https://shop.example.com');
  await page.getByRole('button', { name: 'Create project' }).click();
  const keys = page.getByTestId('created-keys');
  await keys.waitFor();
  shared.publishableKey = await page.getByTestId('publishable-key').inputValue();
  shared.secretKey = await page.getByTestId('secret-key').inputValue();
  assert.match(shared.publishableKey, /^pk_live_/);
  assert.match(shared.secretKey, /^sk_live_/);
  assert.equal(await keys.getByRole('button', { name: /^Copy/ }).count(), 2, 'both keys have a copy button');

  await page.getByRole('link', { name: 'Continue to the project' }).click();
  await page.getByRole('heading', { level: 1, name: 'E2E Shop' }).waitFor();
  shared.projectId = new URL(page.url()).pathname.split('/')[3];
  assert.match(shared.projectId, /^[0-9a-f]{24}$/);
  // The quick start has this server's URL and the publishable key.
  const sdk = page.getByTestId('snippet-sdk');
  await expectText(sdk, new RegExp(shared.publishableKey));
  assert.ok((await sdk.innerText()).includes(baseUrl), 'the SDK snippet names this server');
  await page.getByRole('tab', { name: 'GraphQL' }).click();
  await expectText(page.getByTestId('snippet-graphql'), /\/graphql/);
});

step('defines a collection, with the server\'s validation error inline', async () => {
  await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Collections' }).click();
  await page.getByText('No collections yet.').waitFor();
  await page.getByRole('link', { name: 'Define a collection' }).click();
  await page.getByRole('heading', { level: 1, name: 'New collection' }).waitFor();
  await page.getByLabel('Collection name').fill('products');

  const rows = page.getByTestId('field-row');
  await page.getByRole('button', { name: 'Add field' }).click();
  await rows.nth(0).getByLabel('Name').fill('title');
  await rows.nth(0).getByLabel('Required').check();
  await rows.nth(0).getByLabel('Unique').check();

  await page.getByRole('button', { name: 'Add field' }).click();
  await rows.nth(1).getByLabel('Name').fill('price');
  await rows.nth(1).getByLabel('Type').selectOption('Number');
  await rows.nth(1).getByLabel('Default').fill('0');

  // A system field name: the server refuses, and says so on that row.
  await page.getByRole('button', { name: 'Add field' }).click();
  await rows.nth(2).getByLabel('Name').fill('createdAt');
  await page.getByRole('button', { name: 'Create collection' }).click();
  await expectText(rows.nth(2).locator('.field-row-error'), /"createdAt" is a system field/);
  assert.equal(await rows.nth(2).getAttribute('aria-invalid'), 'true');
  assert.equal(await rows.nth(2).getByLabel('Name').evaluate((el) => el === document.activeElement), true, 'focus moves to the field in error');

  await rows.nth(2).getByLabel('Name').fill('tags');
  await rows.nth(2).getByLabel('Type').selectOption('Array');
  await rows.nth(2).getByLabel('Items').selectOption('String');
  await page.getByRole('button', { name: 'Create collection' }).click();

  await page.getByRole('heading', { level: 1, name: 'Collections' }).waitFor();
  const table = page.getByTestId('collections-table');
  await expectText(table, /products/);
  await expectText(table, /title: String, price: Number, tags: Array/);

  // The server has the definition the form described.
  const res = await rest('GET', '/api/schemas/products', { key: shared.secretKey });
  assert.equal(res.status, 200, JSON.stringify(res.body));
});

step('inserts a document in the browser and finds it in the data browser', async () => {
  await page.getByRole('link', { name: 'Browse products' }).click();
  await page.getByRole('heading', { level: 1, name: 'Data: products' }).waitFor();
  await page.getByText('products has no documents yet.').waitFor();

  await page.getByTestId('insert-document').click();
  const form = page.getByTestId('document-form');
  await form.waitFor();
  // Required is checked by the server, and the error lands on the field.
  await form.getByLabel(/^price/).fill('12.5');
  await form.getByRole('button', { name: 'Add document' }).click();
  await expectText(form.locator('.field', { has: page.getByTestId('doc-title') }).locator('.field-error'), /Field 'title' is required/);

  await form.getByLabel(/^title/).fill('Blue mug');
  await form.getByLabel(/^tags/).fill('["kitchen", "blue"]');
  await form.getByRole('button', { name: 'Add document' }).click();
  await form.waitFor({ state: 'detached' });

  const table = page.getByTestId('documents-table');
  await expectText(table, /Blue mug/);
  await expectText(table, /12\.5/);
  await expectText(page.getByTestId('documents-total'), /of 1$/);

  // A second one through the REST API, as an app would.
  const res = await rest('POST', '/api/data/products', { key: shared.secretKey, body: { title: 'Red plate', price: 7, tags: ['kitchen'] } });
  assert.equal(res.status, 201, JSON.stringify(res.body));

  // Filters and sort.
  await page.getByRole('button', { name: 'Add filter' }).click();
  await page.getByTestId('filter-field').fill('title');
  await page.getByTestId('filter-value').fill('Blue mug');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expectText(page.getByTestId('query-string'), /title=Blue\+mug/);
  await expectText(page.getByTestId('documents-total'), /of 1$/);
  await expectText(table, /Blue mug/);
  assert.equal(await table.getByText('Red plate').count(), 0);

  await page.getByRole('button', { name: 'Clear' }).click();
  await expectText(page.getByTestId('documents-total'), /of 2$/);
  await page.getByTestId('sort').selectOption('price');
  await expectText(page.getByTestId('query-string'), /sort=price/);
  const firstRow = table.locator('tbody tr').first();
  await expectText(firstRow, /Red plate/);

  // A value the field's type refuses: the server's message, not a crash.
  await page.getByRole('button', { name: 'Add filter' }).click();
  await page.getByTestId('filter-field').fill('price');
  await page.getByTestId('filter-op').selectOption('_gt');
  await page.getByTestId('filter-value').fill('lots');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expectText(page.getByTestId('query-error'), /refused this query/);
  await page.getByRole('button', { name: 'Clear' }).click();
  await expectText(page.getByTestId('documents-total'), /of 2$/);

  // Edit in place.
  await table.locator('tbody tr', { hasText: 'Blue mug' }).getByRole('button', { name: /^Edit/ }).click();
  await form.getByLabel(/^price/).fill('14');
  await form.getByRole('button', { name: 'Save document' }).click();
  await form.waitFor({ state: 'detached' });
  await expectText(table.locator('tbody tr', { hasText: 'Blue mug' }), /14/);
  const check = await rest('GET', '/api/data/products?title=Blue+mug', { key: shared.secretKey });
  assert.equal(check.body.data.items[0].price, 14);
});

step('shows live analytics moving with traffic', async () => {
  await page.getByRole('navigation', { name: 'Project sections' }).getByRole('link', { name: 'Analytics' }).click();
  await page.getByRole('heading', { level: 1, name: 'Analytics' }).waitFor();
  await expectText(page.getByTestId('live-status'), /^Live$/);
  const today = page.getByTestId('live-today');
  await expectText(today, /^\d[\d,.\s]*$/); // the first tick arrived
  const before = Number((await today.innerText()).replace(/\D/g, ''));
  const chartLabel = () => page.getByTestId('live-chart').locator('svg').getAttribute('aria-label');

  // Traffic for a few seconds, some of it errors.
  const stopAt = Date.now() + 4000;
  let sent = 0;
  while (Date.now() < stopAt) {
    await Promise.all([
      rest('GET', '/api/data/products', { key: shared.publishableKey }),
      rest('GET', '/api/data/products?price_gt=10', { key: shared.secretKey }),
      rest('GET', '/api/data/missing', { key: shared.secretKey }),
    ]);
    sent += 3;
    await new Promise((r) => setTimeout(r, 100));
  }

  const deadline = Date.now() + TIMEOUT;
  let now = before;
  while (Date.now() < deadline) {
    now = Number((await today.innerText()).replace(/\D/g, ''));
    if (now >= before + sent || (now < before && now >= sent)) break;
    await page.waitForTimeout(250);
  }
  // (At 00:00 UTC the count starts again: then it is at least what was sent.)
  const want = now < before ? sent : before + sent;
  assert.ok(now >= want, `requests today went from ${before} to ${now}; want at least ${want}`);
  // The live chart drew that traffic: its highest bar is not zero.
  const label = await chartLabel();
  assert.match(label, /requests: latest [\d,.]+, highest [1-9]/, label);
  // History, top routes and the recent requests log follow.
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expectText(page.getByTestId('recent-requests'), /\/api\/data\/missing/);
  assert.equal(await page.getByTestId('history-requests').locator('rect').count() > 0, true, 'the history chart has bars');
});

step('works at phone width', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${baseUrl}/dashboard/p/${shared.projectId}/data/products`);
  await page.getByRole('heading', { level: 1, name: 'Data: products' }).waitFor();
  await expectText(page.getByTestId('documents-table'), /Blue mug/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  const nav = page.getByRole('navigation', { name: 'Project sections' });
  await nav.getByRole('link', { name: 'Collections' }).click();
  await page.getByRole('heading', { level: 1, name: 'Collections' }).waitFor();
  // The keyboard reaches the controls: tab from the heading to a real button or link.
  await page.keyboard.press('Tab');
  const tag = await page.evaluate(() => document.activeElement.tagName);
  assert.ok(['A', 'BUTTON'].includes(tag), `focus went to ${tag}`);
  await page.setViewportSize({ width: 1280, height: 900 });
});

step('shows the users, authentication and webhooks views', async () => {
  const nav = page.getByRole('navigation', { name: 'Project sections' });
  await page.goto(`${baseUrl}/dashboard/p/${shared.projectId}`);
  await nav.getByRole('link', { name: 'Users' }).click();
  await page.getByText('No users yet.').waitFor();
  await nav.getByRole('link', { name: 'Authentication' }).click();
  await expectText(page.getByTestId('github-callback-url').locator('xpath=..'), /Copy/);
  assert.equal(await page.getByTestId('github-callback-url').inputValue(), `${baseUrl}/api/userAuth/social/github/callback`);
  await nav.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByText('No webhooks yet.').waitFor();
});

step('lists, opens and deletes an uploaded file in the files view', async () => {
  // Upload through REST with the secret key, as a server would.
  const bytes = Buffer.from(`urBackend e2e file ${Date.now()}\n\u00e9\u00e8 \u2713 bytes\n`, 'utf8');
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'text/plain' }), 'e2e-notes.txt');
  const up = await fetch(`${baseUrl}/api/storage/upload`, { method: 'POST', headers: { 'x-api-key': shared.secretKey }, body: form });
  const upBody = await up.json();
  assert.equal(up.status, 201, JSON.stringify(upBody));
  assert.match(upBody.path, new RegExp(`^${shared.projectId}/[0-9a-f-]{36}_e2e-notes\\.txt$`));

  const nav = page.getByRole('navigation', { name: 'Project sections' });
  await page.goto(`${baseUrl}/dashboard/p/${shared.projectId}`);
  await nav.getByRole('link', { name: 'Files' }).click();
  await page.getByRole('heading', { level: 1, name: 'Files' }).waitFor();
  await expectText(page.getByTestId('storage-files'), /^1$/);
  await expectText(page.getByTestId('storage-bytes'), new RegExp(`^${bytes.length} B$`));
  // The upload hint names this server.
  await expectText(page.getByTestId('upload-snippet'), new RegExp(`${baseUrl.replace(/[.]/g, '\\.')}/api/storage/upload`));

  const table = page.getByTestId('files-table');
  const row = table.locator('tbody tr', { hasText: 'e2e-notes.txt' });
  await expectText(row, /Plain text/);
  await expectText(row, new RegExp(`${bytes.length} B`));
  await expectText(page.getByTestId('files-total'), /of 1$/);

  // Search: a name prefix that matches, and one that does not.
  const search = page.getByLabel('Name starts with');
  await search.fill('nothing-like-it');
  await page.getByText('No file name or path starts with “nothing-like-it”.').waitFor();
  await search.fill('e2e-no');
  await search.press('Enter');
  await expectText(row, /e2e-notes\.txt/);
  assert.match(new URL(page.url()).search, /prefix=e2e-no/);

  // Open: a link to the public URL in a new tab, serving the same bytes.
  const open = row.getByRole('link', { name: 'Open e2e-notes.txt (new tab)' });
  const link = await open.getAttribute('href');
  assert.equal(link, upBody.url);
  assert.equal(await open.getAttribute('target'), '_blank');
  assert.equal(await open.getAttribute('rel'), 'noopener');
  const fromPage = await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), link);
  assert.deepEqual(Buffer.from(fromPage), bytes, 'the page fetches the uploaded bytes from the link');
  const [tab] = await Promise.all([context.waitForEvent('page'), open.click()]);
  await tab.waitForLoadState();
  assert.equal(tab.url(), link);
  await tab.close();
  const fetched = await fetch(link);
  assert.equal(fetched.status, 200);
  assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), bytes, 'the link serves the uploaded bytes');

  // It fits a phone, and the keyboard reaches its actions.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the files page is ${overflow}px wider than the phone`);
  await page.setViewportSize({ width: 1280, height: 900 });

  // Delete after confirmation: the empty state, and the link is gone.
  await row.getByRole('button', { name: 'Delete e2e-notes.txt' }).focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await expectText(dialog, /public link stops working/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  await expectText(row, /e2e-notes\.txt/);
  await row.getByRole('button', { name: 'Delete e2e-notes.txt' }).click();
  await dialog.getByRole('button', { name: 'Delete file' }).click();
  await page.getByText('No file name or path starts with “e2e-no”.').waitFor();
  await page.getByRole('button', { name: 'Clear the search' }).click();
  await page.getByText('No files yet.').waitFor();
  await expectText(page.getByTestId('storage-files'), /^0$/);
  await expectText(page.getByTestId('storage-bytes'), /^0 B$/);
  assert.equal((await fetch(link)).status, 404, 'the deleted file\'s link no longer works');
});

step('deletes the project after confirmation', async () => {
  await page.goto(`${baseUrl}/dashboard/p/${shared.projectId}/settings`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await page.getByRole('button', { name: 'Delete project' }).click();
  const dialog = page.getByRole('dialog');
  const confirm = dialog.getByRole('button', { name: 'Delete project' });
  assert.equal(await confirm.isDisabled(), true, 'the project name must be typed first');
  await dialog.getByLabel('Type E2E Shop to confirm').fill('E2E Shop');
  await confirm.click();
  await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
  await page.getByText('No projects yet.').waitFor();
  const res = await rest('GET', '/api/data/products', { key: shared.secretKey });
  assert.equal(res.status, 401, 'the deleted project\'s key no longer works');
});

test('no script errors or Content-Security-Policy violations', () => {
  assert.deepEqual(problems, []);
});
