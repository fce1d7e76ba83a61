import { TestBed } from '@angular/core/testing';
import { ErrorBanner } from './error-banner';

describe('ErrorBanner', () => {
  it('shows the message and a retry button that emits', async () => {
    const fixture = TestBed.createComponent(ErrorBanner);
    fixture.componentRef.setInput('error', { kind: 'throttled', title: 'Too many requests', message: 'Wait', next: 'retry' });
    let retried = 0;
    fixture.componentInstance.retry.subscribe(() => retried++);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    expect(el.querySelector('[role="alert"]')!.textContent).toContain('Too many requests');
    el.querySelector<HTMLButtonElement>('[data-testid="error-retry"]')!.click();
    expect(retried).toBe(1);
  });

  it('offers sign-in for an expired session and nothing when empty', async () => {
    const fixture = TestBed.createComponent(ErrorBanner);
    fixture.componentRef.setInput('error', { kind: 'session-expired', title: 'Session expired', message: 'Sign in', next: 'sign-in' });
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    expect(el.querySelector('[data-testid="error-sign-in"]')).not.toBeNull();
    fixture.componentRef.setInput('error', null);
    await fixture.whenStable();
    expect(el.querySelector('[role="alert"]')).toBeNull();
  });
});
