// Driving Debian's Chromium with playwright-core in end-to-end tests.
//
//   const b = await launchBrowser();
//   const w = await watchedPage(b, { baseURL: srv.url, canaries: [c1, c2] });
//   await w.page.goto('/');  ...
//   await w.shot(dir, 'hub');          // <dir>/hub.png (and $CONNHUB_SCREENSHOTS/hub.png when set)
//   await w.assertNoLeaks();           // page HTML + every network response: no canary, any form
//   await w.close(); await b.close();
//
// The browser is $CHROMIUM_BIN or /usr/bin/chromium (tools/install-deps installs it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { scanForCanaries, describeHits } from './canary.mjs';

const BODY_WAIT_MS = 5000;

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM_BIN)) throw new Error(`no Chromium at ${CHROMIUM_BIN} (run tools/install-deps)`);
  // --no-sandbox: the tests may run as root in a container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** A fresh context (own cookies) and page whose every response is recorded for leak scans. */
export async function watchedPage(browser, { baseURL, canaries = [], viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ baseURL, viewport });
  const page = await context.newPage();
  const responses = []; // {url, status, headers, body}
  const pending = new Set();
  const errors = [];
  const unread = []; // responses whose body could not be read
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => {
    const p = (async () => {
      let body = '';
      let timer;
      try {
        // Chromium hands a body over only once the page has read it: a body the page never reads
        // would stall the scan, so it is named as unread instead (and fails assertNoLeaks).
        const late = new Promise((resolve) => {
          timer = setTimeout(() => resolve(null), BODY_WAIT_MS);
        });
        const b = await Promise.race([r.body(), late]);
        if (b === null) unread.push(r.url());
        else body = b.toString('utf8');
      } catch {
        body = ''; // redirects and aborted loads have none
      } finally {
        clearTimeout(timer);
      }
      responses.push({ url: r.url(), status: r.status(), headers: JSON.stringify(await r.allHeaders().catch(() => ({}))), body });
    })();
    pending.add(p);
    p.finally(() => pending.delete(p));
  });
  return {
    context,
    page,
    responses,
    errors,
    async settle() {
      await Promise.all([...pending]);
    },
    async shot(dir, name, { fullPage = true } = {}) {
      // a passing toast is fixed to the viewport: in a full-page picture it lands mid-page
      const shown = await page.evaluate(() => {
        const t = [...document.querySelectorAll('.toast.show')];
        t.forEach((x) => x.classList.remove('show'));
        return t.length;
      });
      if (shown) await page.waitForTimeout(400); // its fade-out
      await this.assertLabelled(name);
      const buf = await page.screenshot({ fullPage });
      fs.writeFileSync(path.join(dir, `${name}.png`), buf);
      if (process.env.CONNHUB_SCREENSHOTS) {
        fs.mkdirSync(process.env.CONNHUB_SCREENSHOTS, { recursive: true });
        fs.writeFileSync(path.join(process.env.CONNHUB_SCREENSHOTS, `${name}.png`), buf);
      }
      return buf;
    },
    /** Every visible form control has an accessible name (a label, aria-label or
     * aria-labelledby), every button a text, every image an alt, and the page one h1. */
    async assertLabelled(where = page.url()) {
      const bad = await page.evaluate(() => {
        const out = [];
        const visible = (el) => el.getClientRects().length > 0;
        for (const el of document.querySelectorAll('input, select, textarea')) {
          if (el.type === 'hidden' || !visible(el)) continue;
          const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
          if (!named) out.push(`${el.tagName.toLowerCase()}[name=${el.name}] has no label`);
        }
        for (const b of document.querySelectorAll('button, a[href]')) {
          if (visible(b) && !(b.textContent.trim() || b.getAttribute('aria-label'))) out.push(`${b.tagName.toLowerCase()} without text`);
        }
        for (const i of document.querySelectorAll('img')) if (!i.hasAttribute('alt')) out.push('img without alt');
        if (document.querySelectorAll('h1').length !== 1) out.push(`${document.querySelectorAll('h1').length} h1 elements`);
        return out;
      });
      assert.deepEqual(bad, [], `accessibility on ${where}`);
    },
    /** The page's HTML now, and every response so far (headers and bodies): no canary in any form. */
    async assertNoLeaks(extra = []) {
      await this.settle();
      const html = await page.content();
      const hay = [html, ...responses.map((r) => `${r.url}\n${r.headers}\n${r.body}`)].join('\n');
      const hits = scanForCanaries(hay, [...canaries, ...extra]);
      assert.deepEqual(hits, [], `canary found in the page or a response:\n${describeHits(hits)}`);
      assert.ok(responses.length > 0, 'no network response was recorded');
      assert.deepEqual(unread, [], 'responses whose body was never read (so never scanned)');
      assert.deepEqual(errors, [], 'JavaScript errors on the page');
    },
    async close() {
      await this.settle();
      await context.close();
    },
  };
}

/** Signs in through the sign-in form and waits for the connections hub. */
export async function signIn(page, username, password, workspace) {
  await page.goto('/');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  if (workspace) await page.getByLabel('Workspace (optional)').fill(workspace);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
}
