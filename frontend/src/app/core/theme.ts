import { DOCUMENT, Injectable, effect, inject, signal } from '@angular/core';

/** The colour scheme choice: follow the system, or force light or dark. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'portico.theme';

/** Holds the colour scheme; the M3 theme follows `color-scheme` on the root element. */
@Injectable({ providedIn: 'root' })
export class ThemeService {
  private readonly doc = inject(DOCUMENT);
  readonly choice = signal<ThemeChoice>(this.read());

  constructor() {
    effect(() => {
      const c = this.choice();
      const root = this.doc.documentElement;
      root.classList.toggle('theme-light', c === 'light');
      root.classList.toggle('theme-dark', c === 'dark');
      try {
        localStorage.setItem(KEY, c);
      } catch {
        // Storage may be unavailable; the choice then lasts for this page only.
      }
    });
  }

  /** Whether the page currently shows dark colours. */
  isDark(): boolean {
    const c = this.choice();
    if (c !== 'system') return c === 'dark';
    return this.doc.defaultView?.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
  }

  /** Switches between light and dark (leaving "system"). */
  toggle(): void {
    this.choice.set(this.isDark() ? 'light' : 'dark');
  }

  private read(): ThemeChoice {
    try {
      const v = localStorage.getItem(KEY);
      return v === 'light' || v === 'dark' ? v : 'system';
    } catch {
      return 'system';
    }
  }
}
