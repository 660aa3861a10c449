import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';

/**
 * The console is really served by the server at `/` and renders in a real browser
 * (Debian chromium driven by playwright-core), with live data from the server.
 */
describe('admin console home page (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the server status fetched from /healthz', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.httpPort}/`);
    expect(await page.textContent('h1')).toBe('IRP Domain Identity Registry');
    await page.getByTestId('status').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('status').textContent()).toBe('ok');
    expect(await page.getByTestId('database').textContent()).toBe('ok');
    await page.close();
  });
});
