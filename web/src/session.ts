// Sign-in: the API key lives in sessionStorage, so it is gone when the tab closes and never sent
// anywhere but this node's API.
const STORAGE = 'jejak.key';

export function currentKey(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE);
  } catch {
    return null;
  }
}

export function signIn(key: string): void {
  window.sessionStorage.setItem(STORAGE, key);
}

export function signOut(): void {
  window.sessionStorage.removeItem(STORAGE);
}

/** Where to go after signing in as `role`: `next` when it is one of the pages behind a key
 * (a path of this app, never another origin), else the role's home page. */
export function nextPath(next: string | null, role: string): string {
  if (next && /^\/(wallet|prove|console)(\/[a-z]*)?(\?[^#\\]*)?$/.test(next)) return next;
  return role === 'worker' ? '/wallet' : role === 'auditor' ? '/' : '/console';
}
