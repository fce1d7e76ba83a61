import { APP, IDP, expect, expectedConsoleError, test } from './fixtures';

/** The console filter lets through only the two messages it names, each at its one address. */
test('the console filter is as narrow as it says', () => {
  const status = (code: number, text: string) => `Failed to load resource: the server responded with a status of ${code} (${text})`;
  const cases: { name: string; text: string; url: string; expected: boolean }[] = [
    { name: 'signed-out session probe', text: status(401, 'Unauthorized'), url: `${APP}/auth/session`, expected: true },
    { name: 'dev IdP favicon', text: status(404, 'Not Found'), url: `${IDP}/favicon.ico`, expected: true },
    { name: '401 of an API call', text: status(401, 'Unauthorized'), url: `${APP}/api/portico.inference.v1.InferenceService/GetUsage`, expected: false },
    { name: '401 of the session on another origin', text: status(401, 'Unauthorized'), url: 'http://evil.example/auth/session', expected: false },
    { name: 'session probe with a query', text: status(401, 'Unauthorized'), url: `${APP}/auth/session?x=/favicon.ico`, expected: false },
    { name: '500 of the session probe', text: status(500, 'Internal Server Error'), url: `${APP}/auth/session`, expected: false },
    { name: "the app's own favicon missing", text: status(404, 'Not Found'), url: `${APP}/favicon.ico`, expected: false },
    { name: 'a favicon on another origin', text: status(404, 'Not Found'), url: 'http://cdn.example/favicon.ico', expected: false },
    { name: 'a path ending in favicon.ico', text: status(404, 'Not Found'), url: `${IDP}/static/favicon.ico`, expected: false },
    { name: 'another IdP 404', text: status(404, 'Not Found'), url: `${IDP}/oauth2/authorize`, expected: false },
    { name: 'a script error naming the favicon', text: 'TypeError: favicon.ico status of 404', url: `${IDP}/favicon.ico`, expected: false },
  ];
  for (const c of cases) expect(expectedConsoleError(c.text, c.url), c.name).toBe(c.expected);
});
