import { existsSync } from "node:fs";
import { type Browser, type ConsoleMessage, chromium, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`, done by .ci/run); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

if (!HAS_CHROMIUM) {
  console.warn(
    `[browser tests] SKIPPED: no Chromium at ${CHROMIUM_PATH}. Install it with \`apt-get install -y --no-install-recommends chromium\` (the project's .ci/run does) or set CHROMIUM_PATH.`,
  );
}

/**
 * Headless Chromium with everything that could reach the network switched off: the page under test is on loopback,
 * and Chromium's own background services (updates, sync, safe browsing) must not phone home during tests.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
}

/** What a page did that a test may want to assert on: console errors, uncaught exceptions, CSP violations, requests off loopback. */
export interface PageWatch {
  errors: string[];
  cspViolations: string[];
  foreignRequests: string[];
  dialogs: string[];
}

/**
 * Records errors and CSP violations, refuses every request that is not to the app's own origin (so "works offline"
 * is checked, not assumed), and dismisses any alert()/confirm() after recording it — except confirms the test accepts.
 */
export async function watchPage(page: Page, origin: string, opts: { acceptConfirms?: boolean } = {}): Promise<PageWatch> {
  const watch: PageWatch = { errors: [], cspViolations: [], foreignRequests: [], dialogs: [] };
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") watch.errors.push(m.text());
  });
  page.on("pageerror", (e) => watch.errors.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    watch.dialogs.push(`${d.type()}: ${d.message()}`);
    if (d.type() === "confirm" && opts.acceptConfirms) void d.accept();
    else void d.dismiss();
  });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    watch.foreignRequests.push(url);
    return route.abort();
  });
  // A securitypolicyviolation event means something tried to run or load what the CSP forbids: with correct
  // sanitising nothing ever tries, so tests assert the list stays empty.
  await page.exposeFunction("__reportCsp", (s: string) => watch.cspViolations.push(s));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportCsp: (s: string) => void }).__reportCsp(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return watch;
}
