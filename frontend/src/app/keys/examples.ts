/** The base URL shown when the deployment does not say (PORTICO_PUBLIC_API_URL unset). */
export const PLACEHOLDER_BASE_URL = 'https://<your Portico API>/v1';

/** Ready-to-paste examples for a base URL and a model; the key comes from PORTICO_API_KEY. */
export interface Examples {
  curl: string;
  python: string;
  javascript: string;
}

/** Quotes s for a POSIX shell, in single quotes. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Returns the curl, OpenAI Python and OpenAI JavaScript examples (streamed answers). */
export function examples(baseURL: string, model: string): Examples {
  const base = (baseURL || PLACEHOLDER_BASE_URL).replace(/\/+$/, '');
  const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Hello!' }] });
  return {
    curl: [
      `curl -N ${shellQuote(base + '/chat/completions')} \\`,
      `  -H "Authorization: Bearer $PORTICO_API_KEY" \\`,
      `  -H 'Content-Type: application/json' \\`,
      `  -d ${shellQuote(body)}`,
    ].join('\n'),
    python: [
      'import os',
      'from openai import OpenAI',
      '',
      `client = OpenAI(base_url=${JSON.stringify(base)}, api_key=os.environ["PORTICO_API_KEY"])`,
      'stream = client.chat.completions.create(',
      `    model=${JSON.stringify(model)},`,
      '    messages=[{"role": "user", "content": "Hello!"}],',
      '    stream=True,',
      ')',
      'for chunk in stream:',
      '    if chunk.choices:',
      '        print(chunk.choices[0].delta.content or "", end="")',
    ].join('\n'),
    javascript: [
      "import OpenAI from 'openai';",
      '',
      `const client = new OpenAI({ baseURL: ${JSON.stringify(base)}, apiKey: process.env.PORTICO_API_KEY });`,
      'const stream = await client.chat.completions.create({',
      `  model: ${JSON.stringify(model)},`,
      "  messages: [{ role: 'user', content: 'Hello!' }],",
      '  stream: true,',
      '});',
      "for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');",
    ].join('\n'),
  };
}
