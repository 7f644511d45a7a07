// Real-browser checks (.ci/browser.sh runs this in Debian's Chromium): what HTTP-level tests
// cannot see, because the browser itself enforces it.
//
// 1. The sign-in and consent forms lead, through redirects, to the client's redirect URI.
//    Chromium applies the page's CSP `form-action` to those redirects, so a source it does
//    not accept (an IPv6 literal, say) silently blocks the person on our page.
// 2. CORS: a browser app on an allowed origin can read /token's metadata; another cannot.
//
// Environment: AS (auth-server URL), CB_PORT (port for the fake clients), CLIENTS (JSON list
// of {name, id, redirect}), USERNAME, PASSWORD. Exits 1 listing every failed expectation.
'use strict';
const crypto = require('crypto');
const http = require('http');
const { chromium } = require('playwright-core');

const AS = process.env.AS;
const CB_PORT = Number(process.env.CB_PORT);
const CLIENTS = JSON.parse(process.env.CLIENTS);
const failures = [];

// What a message shows of a URL: never the authorization code itself.
function shown(url) {
  return url.replace(/([?&]code=)[^&]+/, '$1…');
}

function expect(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

// The clients' side: a callback page and a blank page for scripts, on IPv4 and IPv6 loopback.
function startClientServers() {
  const handler = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(req.url.startsWith('/callback') ? '<title>callback</title>' : '<title>app</title>');
  };
  return Promise.all(['127.0.0.1', '::1'].map((host) => new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once('error', reject);
    server.listen(CB_PORT, host, () => resolve(server));
  })));
}

function authorizeUrl(client) {
  const verifier = crypto.randomBytes(48).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: client.redirect,
    scope: 'tasks:read', state: 'st-42', code_challenge: challenge, code_challenge_method: 'S256',
  });
  return `${AS}/authorize?${query}`;
}

// Submits a form and waits for wherever its redirects end.
async function submit(page, selector) {
  await Promise.all([page.waitForNavigation({ timeout: 10000 }).catch(() => {}), page.click(selector)]);
  await page.waitForLoadState('load').catch(() => {});
}

async function signIn(page) {
  await page.fill('input[name=username]', process.env.USERNAME);
  await page.fill('input[name=password]', process.env.PASSWORD);
  await submit(page, 'button[type=submit]');
}

// Where the browser ended: the client's callback with these parameters?
function atCallback(page, client, params) {
  const url = new URL(page.url());
  const expected = new URL(client.redirect);
  const query = url.searchParams;
  return url.origin === expected.origin && url.pathname === expected.pathname
    && query.get('state') === 'st-42' && query.get('iss') === AS
    && Object.entries(params).every(([name, value]) => (value === true ? query.has(name) : query.get(name) === value));
}

async function inFreshBrowser(browser, work) {
  const context = await browser.newContext();
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
  return cspViolations;
}

async function consentFlows(browser, client) {
  const violations = await inFreshBrowser(browser, async (page) => {
    await page.goto(authorizeUrl(client));
    expect(new URL(page.url()).pathname === '/login', `${client.name}: signed out, /authorize asks to sign in`);
    await signIn(page);
    expect(new URL(page.url()).pathname === '/authorize', `${client.name}: after sign-in, the consent page`);
    await submit(page, 'button[value=deny]');
    expect(atCallback(page, client, { error: 'access_denied' }), `${client.name}: Deny reaches the callback with error=access_denied (at ${shown(page.url())})`);
    await page.goto(authorizeUrl(client));
    await submit(page, 'button[value=allow]');
    expect(atCallback(page, client, { code: true }), `${client.name}: Allow reaches the callback with a code (at ${shown(page.url())})`);
  });
  // Consent is remembered, but these are public (native) clients: one click on our page,
  // "Continue to APP as USER", and never a silent code (RFC 8252 §8.6).
  const laterViolations = await inFreshBrowser(browser, async (page) => {
    await page.goto(authorizeUrl(client));
    await signIn(page);
    const button = page.locator('button[value=allow]');
    const label = (await button.count()) ? (await button.innerText()).trim() : '';
    expect(new URL(page.url()).pathname === '/authorize' && label === `Continue to ${client.name} as ${process.env.USERNAME}`,
      `${client.name}: with consent already given, sign-in shows one "Continue" click (at ${shown(page.url())}, button "${label}")`);
    await submit(page, 'button[value=allow]');
    expect(atCallback(page, client, { code: true }), `${client.name}: Continue reaches the callback with a code (at ${shown(page.url())})`);
    // A redirect URI a browser reads as another host is refused on our page.
    const attack = new URL(authorizeUrl(client));
    const registered = new URL(client.redirect);
    attack.searchParams.set('redirect_uri', `http://${registered.host}:@evil.example${registered.pathname}`);
    const refused = await page.goto(attack.toString());
    expect(refused.status() === 400 && new URL(page.url()).origin === AS,
      `${client.name}: a redirect_uri with user-info gets our error page (status ${refused.status()}, at ${shown(page.url())})`);
  });
  const all = violations.concat(laterViolations);
  expect(all.length === 0, `${client.name}: no CSP violation in the console${all.length ? `: ${all.join(' | ')}` : ''}`);
}

async function corsChecks(browser) {
  await inFreshBrowser(browser, async (page) => {
    const metadata = `${AS}/.well-known/oauth-authorization-server`;
    const read = (url) => page.evaluate((u) => fetch(u).then((r) => `status ${r.status}`, (e) => `refused: ${e.message}`), url);
    await page.goto(`http://127.0.0.1:${CB_PORT}/app`);
    const allowed = await read(metadata);
    expect(allowed === 'status 200', `CORS: an allowed origin reads the metadata (${allowed})`);
    await page.goto(`http://[::1]:${CB_PORT}/app`);
    const other = await read(metadata);
    expect(other.startsWith('refused'), `CORS: another origin cannot read it (${other})`);
    const login = await read(`${AS}/login`);
    expect(login.startsWith('refused'), `CORS: no origin reads the sign-in page (${login})`);
  });
}

(async () => {
  const servers = await startClientServers();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true });
  try {
    for (const client of CLIENTS) await consentFlows(browser, client);
    await corsChecks(browser);
  } finally {
    await browser.close();
    servers.forEach((server) => server.close());
  }
  if (failures.length) {
    console.error(`\n${failures.length} browser check(s) failed`);
    process.exit(1);
  }
  console.log('\nall browser checks passed');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
