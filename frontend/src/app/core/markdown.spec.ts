import { renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
  it('removes script tags and inline handlers', () => {
    const html = renderMarkdown('Hello <script>alert(1)</script><img src="x" onerror="alert(2)"> <a href="javascript:alert(3)">x</a>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('alert(1)');
    expect(html).not.toContain('onerror');
    expect(html).not.toContain('javascript:');
  });

  it('renders GitHub-flavoured tables, lists and headings', () => {
    const html = renderMarkdown('# Title\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<li>one</li>');
    expect(html).toContain('<table>');
    expect(html).toContain('<td>2</td>');
  });

  it('highlights code and adds a copy button without inline handlers', () => {
    const html = renderMarkdown('```go\nfunc main() {}\n```');
    expect(html).toContain('class="hljs language-go"');
    expect(html).toContain('hljs-keyword');
    expect(html).toContain('data-copy-code');
    expect(html).not.toMatch(/on\w+=/);
  });

  it('escapes code in unknown languages', () => {
    const html = renderMarkdown('```weird\n<b>x</b>\n```');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('opens links in a new tab without opener', () => {
    const html = renderMarkdown('[x](https://example.com)');
    expect(html).toContain('rel="noopener noreferrer"');
    expect(html).toContain('target="_blank"');
  });
});
