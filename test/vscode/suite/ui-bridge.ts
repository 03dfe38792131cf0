// The tests run in the extension host, which cannot see the workbench's
// pixels or DOM. The code-server launcher drives the workbench page with
// playwright and serves these requests on 127.0.0.1 (HANGAR_TEST_UI_BRIDGE).
// Under @vscode/test-electron there is no bridge: UI checks skip, saying so.

const base = process.env.HANGAR_TEST_UI_BRIDGE;

export const uiBridgeAvailable = Boolean(base);

async function call<T>(action: string, body: object): Promise<T> {
  if (!base) throw new Error("No UI bridge: run the tests with the code-server launcher (npm run test:vscode).");
  const res = await fetch(`${base}/${action}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`UI bridge ${action} failed: ${text}`);
  return JSON.parse(text) as T;
}

/** textContent of every element matching `selector` in the workbench page. */
export function queryText(selector: string): Promise<string[]> {
  return call<string[]>("query", { selector });
}

/** className of every element matching `selector`. */
export function queryClasses(selector: string): Promise<string[]> {
  return call<string[]>("classes", { selector });
}

/** Polls until some element's text matching `selector` satisfies `pred`; returns all texts. */
export async function waitForText(selector: string, pred: (texts: string[]) => boolean, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let texts: string[] = [];
  while (Date.now() < deadline) {
    texts = await queryText(selector);
    if (pred(texts)) return texts;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Timed out waiting on ${selector}; last texts: ${JSON.stringify(texts)}`);
}

/** Writes test-output/<name>.png of the element matching `selector` (or the whole window); returns its path. */
export async function screenshot(name: string, selector?: string): Promise<string> {
  return (await call<{ path: string }>("screenshot", { name, selector })).path;
}

/** Clicks the first element matching `selector` in the workbench page (waits for it to appear). */
export async function click(selector: string): Promise<void> {
  await call<unknown>("click", { selector });
}

/** The workbench's sidebar. */
export const SIDEBAR = ".part.sidebar";
/** One Hangar view's pane in the sidebar (its header's title names it). */
export const paneOf = (title: string): string => `${SIDEBAR} .pane:has(> .pane-header h3.title:text-is("${title}"))`;
/** Hangar's views, top to bottom. */
export const HANGAR_VIEWS = ["Boxes", "Machines", "Images", "Containers", "Registries", "Networks", "Volumes", "Contexts"];
/** The views expanded when Hangar's container opens first (the views suite expects them so): what a suite that folds views restores. */
export const EXPANDED_AT_FIRST = ["Boxes", "Machines", "Images", "Containers", "Registries"];

/**
 * Expands the views named and collapses Hangar's others (by their headers, as
 * a user would), so the rows a test waits for fit the 800 px window: with
 * eight views expanded a pane may be too short to render them.
 */
export async function showOnly(titles: string[]): Promise<void> {
  // A click during a pane's animation can be lost: check every header again until all agree.
  let wrong: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    wrong = [];
    for (const title of HANGAR_VIEWS) {
      const header = `${paneOf(title)} > .pane-header`;
      const [classes] = await queryClasses(header);
      if (classes !== undefined && /\bexpanded\b/.test(classes) !== titles.includes(title)) {
        wrong.push(title);
        await click(header);
      }
    }
    if (!wrong.length) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`showOnly(${titles.join(", ")}): the ${wrong.join(", ")} views would not fold or unfold`);
}

/**
 * Waits until the rows `view`'s pane renders satisfy `pred`, unfolding only
 * the views in `shown` (and folding them again on each retry, should a click
 * have been lost); returns the rows.
 */
export async function waitForRows(view: string, shown: string[], pred: (rows: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let rows: string[] = [];
  while (Date.now() < deadline) {
    await showOnly(shown);
    try {
      return await waitForText(`${paneOf(view)} .monaco-list-row`, pred, Math.min(5_000, Math.max(1, deadline - Date.now())));
    } catch {
      rows = await queryText(`${paneOf(view)} .monaco-list-row`);
    }
  }
  const [classes] = await queryClasses(`${paneOf(view)} > .pane-header`);
  throw new Error(`Timed out waiting on the ${view} view's rows; last rows: ${JSON.stringify(rows)}; its header: ${classes ?? "not found"}`);
}
