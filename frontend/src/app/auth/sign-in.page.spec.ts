import { TestBed } from '@angular/core/testing';
import { SignInPage } from './sign-in.page';

describe('SignInPage', () => {
  it('links to the BFF login with the local return path', async () => {
    const fixture = TestBed.createComponent(SignInPage);
    fixture.componentRef.setInput('returnTo', '/usage');
    await fixture.whenStable();
    const a = (fixture.nativeElement as HTMLElement).querySelector<HTMLAnchorElement>('[data-testid="sign-in-button"]')!;
    expect(a.textContent).toContain('Sign in with your company account');
    expect(a.getAttribute('href')).toBe('/auth/login?returnTo=%2Fusage');
  });

  it('never returns to another origin', async () => {
    const fixture = TestBed.createComponent(SignInPage);
    fixture.componentRef.setInput('returnTo', '//evil.example/');
    await fixture.whenStable();
    const a = (fixture.nativeElement as HTMLElement).querySelector<HTMLAnchorElement>('[data-testid="sign-in-button"]')!;
    expect(a.getAttribute('href')).toBe('/auth/login?returnTo=%2F');
  });
});
