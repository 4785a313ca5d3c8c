/**
 * The audit console: sign in with an API key, then a live deny feed, a trace explorer, a
 * chain verifier and counts, as hash routes (#feed, #explorer, #trace/<actionId>, #verify,
 * #stats) of one page. The key stays in sessionStorage and goes with every API call; the
 * page itself is served without one.
 */
import { ConsoleViewerDocument, type ConsoleViewerQuery } from "../gql/graphql.js";
import { ApiError, describeFailure, request } from "./api.js";
import { showTrace } from "./detail.js";
import { byId, fill, h } from "./dom.js";
import { Explorer } from "./explorer.js";
import { parseQuery } from "./query.js";
import { DenyFeed } from "./feed.js";
import { forgetKey, leaveNotice, saveKey, savedKey, takeNotice } from "./session.js";
import { Stats } from "./stats.js";
import { LOCAL_ZONE } from "./time.js";
import { setUpVerify } from "./verify.js";

type Viewer = ConsoleViewerQuery["viewer"];

const VIEWS = ["feed", "explorer", "trace", "verify", "stats"] as const;
type View = (typeof VIEWS)[number];

const signin = byId("signin", HTMLElement);
const signinForm = byId("signin-form", HTMLFormElement);
const keyInput = byId("signin-key", HTMLInputElement);
const signinError = byId("signin-error", HTMLElement);
const app = byId("app", HTMLElement);
const viewerBox = byId("viewer", HTMLElement);

let key: string | null = null;
let feed: DenyFeed | undefined;
const currentKey = () => key ?? "";

/** The session's key was refused (revoked while signed in): back to the sign-in form. */
function sessionEnded(error: ApiError): void {
  if (key === null) return;
  signOut({ message: `Signed out: ${describeFailure(error)}`, kind: error.kind });
}

const explorer = new Explorer(currentKey, sessionEnded);
const stats = new Stats(currentKey, sessionEnded);
setUpVerify(currentKey, sessionEnded);

function scopeNote(viewer: Viewer): string | null {
  const read = viewer.scopes.includes("ADMIN") || viewer.scopes.includes("TRACES_READ");
  if (!read) return "This key lacks the traces:read scope: the feed, the explorer, stats and verify will be refused (FORBIDDEN).";
  if (viewer.principals) return "This key only sees its principals' traces; verifying the whole chain will be refused (FORBIDDEN).";
  return null;
}

function showViewer(viewer: Viewer): void {
  const note = scopeNote(viewer);
  fill(
    viewerBox,
    h(
      "p",
      { class: "who" },
      "Signed in as ",
      h("strong", { id: "viewer-name" }, viewer.name),
      ` (key ${viewer.keyId}) · scopes: `,
      h("span", { id: "viewer-scopes" }, viewer.scopes.join(", ")),
      ` · principals: ${viewer.principals ? viewer.principals.join(", ") : "all"} · times in ${LOCAL_ZONE}`,
    ),
    h("button", { type: "button", id: "signout", onclick: () => signOut() }, "Sign out"),
    note ? h("p", { class: "note", role: "note" }, note) : null,
  );
}

async function signIn(candidate: string, fromStorage: boolean): Promise<void> {
  const button = signinForm.querySelector("button[type=submit]") as HTMLButtonElement;
  button.disabled = true;
  signinError.textContent = fromStorage ? "Signing in with this tab's saved key…" : "Checking the key…";
  signinError.dataset.kind = "pending";
  try {
    const { viewer } = await request(ConsoleViewerDocument, {}, candidate);
    key = candidate;
    saveKey(candidate);
    keyInput.value = "";
    signinError.textContent = "";
    delete signinError.dataset.kind;
    showViewer(viewer);
    signin.hidden = true;
    app.hidden = false;
    feed = new DenyFeed({
      key: candidate,
      onUnauthenticated: sessionEnded,
      elements: {
        panel: byId("view-feed", HTMLElement),
        list: byId("feed-list", HTMLOListElement),
        status: byId("feed-status", HTMLElement),
        toggle: byId("feed-toggle", HTMLButtonElement),
        reconnect: byId("feed-reconnect", HTMLButtonElement),
      },
    });
    void feed.start();
    route(true);
  } catch (e) {
    const error = e instanceof ApiError ? e : new ApiError("ERROR", String(e));
    signinError.dataset.kind = error.kind;
    signinError.textContent = describeFailure(error);
    // A stored key the gateway refuses is gone for good; an unreachable gateway is not its fault.
    if (error.kind === "UNAUTHENTICATED") forgetKey();
    keyInput.focus();
  } finally {
    button.disabled = false;
  }
}

function signOut(notice = { message: "Signed out.", kind: "notice" }): void {
  feed?.stop();
  feed = undefined;
  key = null;
  forgetKey();
  // Start over from a fresh page: nothing the old key saw stays on screen.
  leaveNotice(notice);
  history.replaceState(null, "", location.pathname);
  location.reload();
}

/** Show the view the hash names; focus its heading when the user navigated there. */
function route(initial = false): void {
  if (key === null) return;
  // `#view/path?query`: the query (the explorer's filters) stays encoded for URLSearchParams.
  const raw = location.hash.slice(1);
  const mark = raw.indexOf("?");
  const search = mark < 0 ? "" : raw.slice(mark + 1);
  let path: string;
  try {
    path = decodeURIComponent(mark < 0 ? raw : raw.slice(0, mark));
  } catch {
    path = ""; // a malformed escape: the default view
  }
  const [name, ...rest] = path.split("/");
  const known = (VIEWS as readonly string[]).includes(name ?? "");
  // Other fragments (the skip link's #main) are not routes: the view stays.
  if (!known && !initial) return;
  const view: View = known ? (name as View) : "feed";
  for (const v of VIEWS) byId(`view-${v}`, HTMLElement).hidden = v !== view;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a[data-view]")) {
    const active = link.dataset.view === view || (view === "trace" && link.dataset.view === "explorer");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view === "explorer") explorer.show(search);
  // The explorer's tab and the detail's back link return to the search last shown.
  byId("trace-back", HTMLAnchorElement).href = explorer.hash;
  document.querySelector<HTMLAnchorElement>('nav a[data-view="explorer"]')?.setAttribute("href", explorer.hash);
  if (view === "stats") stats.show();
  if (view === "trace") {
    void showTrace(rest.join("/"), {
      key: currentKey(),
      heading: byId("trace-heading", HTMLElement),
      container: byId("trace-body", HTMLElement),
      onUnauthenticated: sessionEnded,
      pivot: (field, value) => explorer.navigate({ ...parseQuery(""), [field]: value }),
    });
  }
  if (!initial) byId(`view-${view}`, HTMLElement).querySelector<HTMLElement>("h2")?.focus();
}

window.addEventListener("hashchange", () => route());
signinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // An empty field retries with this tab's saved key (after "server down" at load).
  const candidate = keyInput.value.trim().replace(/^Bearer\s+/i, "") || savedKey() || "";
  if (candidate === "") {
    signinError.textContent = "Enter an API key.";
    return;
  }
  void signIn(candidate, false);
});

for (const zone of document.querySelectorAll(".zone")) zone.textContent = `(${LOCAL_ZONE})`;
const notice = takeNotice();
if (notice) {
  signinError.textContent = notice.message;
  signinError.dataset.kind = notice.kind;
}
const stored = savedKey();
if (stored) void signIn(stored, true);
else keyInput.focus();
