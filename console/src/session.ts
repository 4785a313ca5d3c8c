/**
 * The API key of this tab's session. sessionStorage: it survives a reload but not the tab,
 * and is never shared with other tabs or written to disk by the page.
 */
const STORAGE_KEY = "tracegate.console.apiKey";

export function savedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the user signs in on every load
  }
}

export function saveKey(key: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // storage disabled: the key lives in memory only
  }
}

export function forgetKey(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

const NOTICE_KEY = "tracegate.console.notice";

/** Why a session ended, for the sign-in form after the page reloads. */
export interface Notice {
  message: string;
  /** "notice" for a sign-out, else the failure kind that ended the session. */
  kind: string;
}

export function leaveNotice(notice: Notice): void {
  try {
    sessionStorage.setItem(NOTICE_KEY, JSON.stringify(notice));
  } catch {
    // no storage: the reloaded page says nothing
  }
}

/** The notice leaveNotice left, once. */
export function takeNotice(): Notice | null {
  try {
    const stored = sessionStorage.getItem(NOTICE_KEY);
    sessionStorage.removeItem(NOTICE_KEY);
    return stored ? (JSON.parse(stored) as Notice) : null;
  } catch {
    return null;
  }
}
