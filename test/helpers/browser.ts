/**
 * Headless Chromium for tests that open report.html: Debian's `chromium` package driven by
 * playwright-core (which downloads no browser of its own). A missing browser is a failure with
 * the command that installs it, never a skip: a skipped browser test would hide a broken report.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** The Chromium binary: $CHROMIUM_PATH, else Debian's. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags for a quiet, offline, deterministic browser: no GPU (none in CI), no sandbox (CI runs
 * as root, where Chromium's sandbox refuses to start), and none of the background services that
 * would reach for the network.
 */
const ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running browser with a fresh profile; `close` removes the profile too. */
export interface TestBrowser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh user data dir, or throws saying how to install it. */
export async function launchBrowser(
  options: { width?: number; height?: number; executablePath?: string } = {},
): Promise<TestBrowser> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. Install it with \`apt-get install -y chromium\` ` +
        "(.ci/run does this in CI), or point CHROMIUM_PATH at a Chromium binary.",
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "bakeoff-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      args: ARGS,
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      offline: true,
    });
    return {
      context,
      newPage: () => context.newPage(),
      close: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}

/** What a page reported while it was open: console errors and uncaught exceptions. */
export interface PageProblems {
  /** Console messages of type "error" (CSP violations are reported this way too). */
  consoleErrors: string[];
  pageErrors: string[];
  /** Requests to anything but the file itself and data: URLs (a self-contained page makes none). */
  requests: string[];
}

/** Starts recording a page's problems; read the returned object after the page has loaded. */
export function watchPage(page: Page, allowedUrl: string): PageProblems {
  const seen: PageProblems = { consoleErrors: [], pageErrors: [], requests: [] };
  page.on("console", (msg) => {
    if (msg.type() === "error") seen.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => seen.pageErrors.push(err.message));
  page.on("request", (req) => {
    const url = req.url();
    if (url !== allowedUrl && !url.startsWith("data:")) seen.requests.push(url);
  });
  return seen;
}
