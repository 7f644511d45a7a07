// Real-browser walk-throughs of account recovery and two-factor sign-in (.ci/browser.sh runs
// this in Debian's Chromium), as a person does them:
//
// 1. "Forgot password?" on the sign-in page -> the mailed link (read from the .eml file the
//    server's MAIL_TRANSPORT=file:DIR wrote) -> a new password -> signed in with it.
// 2. Two-factor sign-in: enrolment on the account page (the QR code renders, the secret
//    in text gives the codes an authenticator app would show), the recovery codes shown
//    once, then signing in with the password and a code.
//
// Each step checks what the page shows, and that the console reports no CSP violation.
// With SCREENSHOTS=DIR, the pages README shows are saved there.
//
// Environment: AS (auth-server URL), MAIL_DIR (where the server writes .eml files),
// USERNAME, PASSWORD (an existing account), SCREENSHOTS (optional). Exits 1 listing every
// failed expectation.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const AS = process.env.AS;
const MAIL_DIR = process.env.MAIL_DIR;
const SCREENSHOTS = process.env.SCREENSHOTS;
const NEW_PASSWORD = 'marble-heron-lantern-97';
const failures = [];

function expect(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function screenshot(page, name) {
  if (!SCREENSHOTS) return;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// Submits a form and waits for wherever its redirects end.
async function submit(page, selector) {
  await Promise.all([page.waitForNavigation({ timeout: 10000 }).catch(() => {}), page.click(selector)]);
  await page.waitForLoadState('load').catch(() => {});
}

// RFC 4648 base32, as authenticator apps read the secret.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of text.replace(/[\s=]/g, '').toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s) at `unixSeconds`, as RFC 4226 §5.3 truncates.
function totp(secret, unixSeconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(value).padStart(6, '0');
}

// The newest mail the server wrote to MAIL_DIR since `since`, decoded from
// quoted-printable, or '' after 10 s.
async function newestMail(since) {
  for (let i = 0; i < 100; i += 1) {
    const files = fs.readdirSync(MAIL_DIR)
      .map((name) => path.join(MAIL_DIR, name))
      .filter((file) => file.endsWith('.eml') && fs.statSync(file).mtimeMs >= since);
    if (files.length) {
      files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
      return fs.readFileSync(files[0], 'utf8')
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return '';
}

async function inFreshBrowser(browser, work) {
  const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
  const page = await context.newPage();
  const cspViolations = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  try {
    await work(page);
  } finally {
    await context.close();
  }
  expect(cspViolations.length === 0, `no CSP violation in the console${cspViolations.length ? `: ${cspViolations.join(' | ')}` : ''}`);
}

async function signIn(page, password) {
  await page.goto(`${AS}/login`);
  await page.fill('input[name=username]', process.env.USERNAME);
  await page.fill('input[name=password]', password);
  await submit(page, 'button[type=submit]');
}

async function forgotPassword(browser) {
  await inFreshBrowser(browser, async (page) => {
    await page.goto(`${AS}/login`);
    await submit(page, 'a[href="/forgot-password"]');
    expect(new URL(page.url()).pathname === '/forgot-password', 'the sign-in page links to "Forgot password?"');
    const since = Date.now() - 1000;
    await page.fill('input[name=login]', process.env.USERNAME);
    await submit(page, 'button[type=submit]');
    await screenshot(page, 'forgot-password-sent');
    const mail = await newestMail(since);
    const link = (mail.match(/https?:\/\/[^\s"<>]+\/reset-password\?token=pr_[A-Za-z0-9_-]+/) || [])[0];
    expect(Boolean(link), 'a reset link arrives by mail');
    if (!link) return;
    await page.goto(link);
    await page.fill('input[name=password]', NEW_PASSWORD);
    await screenshot(page, 'reset-password');
    await submit(page, 'button[type=submit]');
    expect(new URL(page.url()).pathname === '/login', `after the reset, the sign-in page (at ${page.url()})`);
    await page.fill('input[name=username]', process.env.USERNAME);
    await page.fill('input[name=password]', NEW_PASSWORD);
    await submit(page, 'button[type=submit]');
    expect(new URL(page.url()).pathname === '/account', `signed in with the new password (at ${page.url()})`);
    await page.goto(link);
    const spent = await page.content();
    expect(!spent.includes('name="password"'), 'the link works once');
  });
}

async function twoFactor(browser) {
  let secret = '';
  await inFreshBrowser(browser, async (page) => {
    await signIn(page, NEW_PASSWORD);
    await page.goto(`${AS}/account`);
    await submit(page, 'a[href="/account/two-factor"]');
    const qr = await page.locator('figure.qr svg').boundingBox();
    expect(Boolean(qr) && qr.width >= 150 && qr.height >= 150, `the QR code renders (${JSON.stringify(qr)})`);
    secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
    expect(secret.length === 32, 'the secret is shown in text');
    await screenshot(page, 'two-factor-enrolment');
    await page.fill('input[name=code]', totp(secret, Date.now() / 1000));
    await submit(page, 'button[type=submit]');
    const codes = await page.locator('ul.recovery-codes code').allInnerTexts();
    expect(codes.length === 10, `ten recovery codes are shown once (${codes.length})`);
    await screenshot(page, 'two-factor-recovery-codes');
    await submit(page, 'a.button');
    const account = await page.locator('main').innerText();
    expect(/Two-factor sign-in\s+—\s+on/.test(account), 'the account page says two-factor sign-in is on');
  });
  await inFreshBrowser(browser, async (page) => {
    await signIn(page, NEW_PASSWORD);
    expect(await page.locator('input[name=code]').count() === 1, `after the password, the code is asked (at ${page.url()})`);
    await screenshot(page, 'two-factor-sign-in');
    // The next step's code: the current one was spent by the enrolment.
    await page.fill('input[name=code]', totp(secret, Date.now() / 1000 + 30));
    await submit(page, 'button[type=submit]');
    expect(new URL(page.url()).pathname === '/account', `signed in with the code (at ${page.url()})`);
  });
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true });
  try {
    await forgotPassword(browser);
    await twoFactor(browser);
  } finally {
    await browser.close();
  }
  if (failures.length) {
    console.error(`\n${failures.length} browser check(s) failed`);
    process.exit(1);
  }
  console.log('\nall account walk-throughs passed');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
