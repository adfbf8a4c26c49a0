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
