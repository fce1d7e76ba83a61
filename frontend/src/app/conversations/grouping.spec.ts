import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ConversationSchema } from '@gen/portico/conversation/v1/conversation_pb';
import { groupConversations, groupOf } from './grouping';

function conv(id: string, updated: Date, pinned = false) {
  return create(ConversationSchema, { id, title: id, pinned, updateTime: timestampFromDate(updated) });
}

describe('groupConversations', () => {
  // Local time: the sections follow the browser's calendar days.
  const now = new Date(2026, 11, 6, 10, 30); // 6 Dec 2026, 10:30

  it('puts each conversation in its calendar section', () => {
    const cases: { name: string; at: Date; want: string }[] = [
      { name: 'a minute ago', at: new Date(2026, 11, 6, 10, 29), want: 'today' },
      { name: 'just after midnight', at: new Date(2026, 11, 6, 0, 0, 1), want: 'today' },
      { name: 'in the future (a clock ahead)', at: new Date(2026, 11, 6, 23, 0), want: 'today' },
      { name: 'just before midnight', at: new Date(2026, 11, 5, 23, 59), want: 'yesterday' },
      { name: 'yesterday morning', at: new Date(2026, 11, 5, 0, 0), want: 'yesterday' },
      { name: 'two days ago', at: new Date(2026, 11, 4, 12, 0), want: 'week' },
      { name: 'eight days ago, first minute', at: new Date(2026, 10, 28, 0, 0), want: 'week' },
      { name: 'nine days ago', at: new Date(2026, 10, 27, 23, 59), want: 'older' },
      { name: 'last year', at: new Date(2025, 0, 1), want: 'older' },
    ];
    for (const c of cases) expect(groupOf(conv(c.name, c.at), now), c.name).toBe(c.want);
  });

  it('keeps pinned conversations on top whatever their age, each section newest first', () => {
    const list = [
      conv('old', new Date(2025, 0, 1)),
      conv('today-early', new Date(2026, 11, 6, 8)),
      conv('pinned-old', new Date(2024, 0, 1), true),
      conv('today-late', new Date(2026, 11, 6, 10)),
      conv('pinned-new', new Date(2026, 11, 6, 9), true),
      conv('yesterday', new Date(2026, 11, 5, 9)),
    ];
    const groups = groupConversations(list, now);
    expect(groups.map((g) => g.key)).toEqual(['pinned', 'today', 'yesterday', 'older']);
    expect(groups.map((g) => g.label)).toEqual(['Pinned', 'Today', 'Yesterday', 'Older']);
    expect(groups[0]!.conversations.map((c) => c.id)).toEqual(['pinned-new', 'pinned-old']);
    expect(groups[1]!.conversations.map((c) => c.id)).toEqual(['today-late', 'today-early']);
  });

  it('falls back to the creation time and leaves out empty sections', () => {
    const c = create(ConversationSchema, { id: 'x', createTime: timestampFromDate(new Date(2026, 11, 2)) });
    expect(groupConversations([c], now)).toEqual([{ key: 'week', label: 'Previous 7 days', conversations: [c] }]);
    expect(groupConversations([], now)).toEqual([]);
  });
});
