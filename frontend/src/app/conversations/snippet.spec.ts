import { readableParts, snippetParts } from './snippet';

const hl = (start: number, end: number) => ({ start, end }) as never;

describe('snippetParts', () => {
  it('marks the highlighted ranges and keeps the rest as text', () => {
    expect(snippetParts({ text: 'the quick brown fox', highlights: [hl(4, 9), hl(16, 19)] })).toEqual([
      { text: 'the ', mark: false },
      { text: 'quick', mark: true },
      { text: ' brown ', mark: false },
      { text: 'fox', mark: true },
    ]);
  });

  it('slices UTF-16 code units, so astral characters before a match keep it in place', () => {
    // "😀" is two UTF-16 code units; the match "naïve" starts at unit 3.
    const text = '😀 naïve café';
    const parts = snippetParts({ text, highlights: [hl(3, 8)] });
    expect(parts).toEqual([
      { text: '😀 ', mark: false },
      { text: 'naïve', mark: true },
      { text: ' café', mark: false },
    ]);
  });

  it('survives hostile ranges: out of bounds, reversed, empty, overlapping, unsorted', () => {
    const text = 'abcdefghij';
    const cases: { name: string; ranges: [number, number][]; want: string }[] = [
      { name: 'past the end is clipped', ranges: [[8, 99]], want: 'abcdefgh[ij]' },
      { name: 'negative start is clipped', ranges: [[-5, 2]], want: '[ab]cdefghij' },
      { name: 'reversed is skipped', ranges: [[5, 2]], want: 'abcdefghij' },
      { name: 'empty is skipped', ranges: [[3, 3]], want: 'abcdefghij' },
      { name: 'overlapping is skipped', ranges: [[1, 4], [3, 6]], want: 'a[bcd]efghij' },
      { name: 'unsorted is sorted', ranges: [[6, 8], [0, 1]], want: '[a]bcdef[gh]ij' },
      { name: 'adjacent ranges both mark', ranges: [[0, 2], [2, 4]], want: '[ab][cd]efghij' },
      { name: 'wholly outside is skipped', ranges: [[20, 30]], want: 'abcdefghij' },
    ];
    for (const c of cases) {
      const parts = snippetParts({ text, highlights: c.ranges.map(([a, b]) => hl(a, b)) });
      const shown = parts.map((p) => (p.mark ? `[${p.text}]` : p.text)).join('');
      expect(shown, c.name).toBe(c.want);
      expect(parts.map((p) => p.text).join(''), `${c.name}: the pieces join to the text`).toBe(text);
    }
  });

  it('keeps markup in server text as text', () => {
    const parts = snippetParts({ text: '<img src=x onerror=alert(1)> found', highlights: [hl(29, 34)] });
    expect(parts).toEqual([
      { text: '<img src=x onerror=alert(1)> ', mark: false },
      { text: 'found', mark: true },
    ]);
  });

  it('is empty for no snippet', () => {
    expect(snippetParts(undefined)).toEqual([]);
    expect(snippetParts({ text: '', highlights: [hl(0, 1)] })).toEqual([]);
  });
});

describe('readableParts', () => {
  it('drops Markdown marks around a match and keeps the match as marked', () => {
    const text = '- **Seed:** `77d47f76ff3ec73d`\n## Next';
    const start = text.indexOf('77d4');
    const parts = readableParts(snippetParts({ text, highlights: [hl(start, start + 16)] }));
    expect(parts).toEqual([
      { text: '- Seed: ', mark: false },
      { text: '77d47f76ff3ec73d', mark: true },
      { text: ' Next', mark: false },
    ]);
  });
});
