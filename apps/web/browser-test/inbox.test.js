// The inbox page in a real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core, which downloads no browser) against the real
// server binary: two tabs of one user, live arrival in both, a read in one
// updating the badge of the other, "offline" while the server is down and
// back with what was created meanwhile once it restarts on the same port with
// the same secret. Writes target/browser/inbox.png. Every wait is on a
// selector or an event, never a fixed sleep.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { TestServer } from '../test/support/server.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SCREENSHOT = join(REPO_ROOT, 'target/browser/inbox.png');
// Generous: the client's back-off after a restart is capped at 30 s.
const RECONNECT_TIMEOUT_MS = 60_000;

let server;
let browser;

before(async () => {
  server = new TestServer();
  await server.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--headless'],
  });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** Opens the dev-mode style link in a new tab and waits until it is live. */
async function openInbox(context, token) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Trusted Type/i.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  await page.goto(`${server.baseUrl}/#token=${token}`);
  await page.locator('#connection[data-state="live"]').waitFor();
  return { page, problems };
}

const badge = (page) => page.locator('#badge');
const row = (page, title) => page.locator('#list li[data-id]', { hasText: title });

test('two tabs of one user stay in step, survive a restart, and the page is screenshotted', async () => {
  const user = randomUUID();
  const token = server.token(user);
  const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
  const one = await openInbox(context, token);
  const two = await openInbox(context, token);

  // The token left the address bar once read.
  assert.equal(new URL(one.page.url()).hash, '');

  // A notification created through REST appears in both tabs.
  await server.publish(user, { title: 'Deploy finished', message: 'api v2.4.1 is live', type: 'SUCCESS' });
  const created = await server.publish(user, { title: 'Invoice paid', message: 'Invoice #1042 was paid', type: 'INFO' });
  for (const { page } of [one, two]) {
    await row(page, 'Invoice paid').waitFor();
    await page.locator('#badge[data-count="2"]').waitFor();
  }

  // Publisher text is text, never markup.
  await server.publish(user, { title: '<img src=x onerror=alert(1)>', message: '<b>bold?</b>' });
  await row(one.page, '<img src=x onerror=alert(1)>').waitFor();
  assert.equal(await one.page.locator('#list img').count(), 0);
  await one.page.locator('#badge[data-count="3"]').waitFor();

  // Marking one read in the first tab updates the badge in the second.
  await row(one.page, 'Invoice paid').getByRole('button', { name: 'Mark read' }).click();
  await two.page.locator('#badge[data-count="2"]').waitFor();
  await row(two.page, 'Invoice paid').getByRole('button', { name: 'Mark unread' }).waitFor();
  assert.equal(await badge(one.page).textContent(), '2');

  // The server stops: the tab says offline.
  await server.stop();
  await one.page.locator('#connection[data-state="offline"]').waitFor();
  await two.page.locator('#connection[data-state="offline"]').waitFor();

  // Same port, same secret, same database: the tabs come back, and what was
  // created while they were away shows up.
  await server.start();
  const meanwhile = await server.publish(user, { title: 'Created while offline', message: 'still delivered', type: 'WARNING' });
  for (const { page } of [one, two]) {
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: RECONNECT_TIMEOUT_MS });
    await row(page, 'Created while offline').waitFor({ timeout: RECONNECT_TIMEOUT_MS });
    await page.locator('#badge[data-count="3"]').waitFor();
  }
  assert.ok(meanwhile.notification_id && created.notification_id);

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await one.page.screenshot({ path: SCREENSHOT, fullPage: true });

  assert.deepEqual([...one.problems, ...two.problems], []);
  await context.close();
});
