import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { Conversation } from '@gen/portico/conversation/v1/conversation_pb';

/** The sections of the conversation list, in the order they show. */
export type GroupKey = 'pinned' | 'today' | 'yesterday' | 'week' | 'older';

/** One section of the conversation list. */
export interface ConversationGroup {
  key: GroupKey;
  label: string;
  conversations: Conversation[];
}

/** The label of each section. */
export const GROUP_LABELS: Record<GroupKey, string> = {
  pinned: $localize`:@@conversations.group.pinned:Pinned`,
  today: $localize`:@@conversations.group.today:Today`,
  yesterday: $localize`:@@conversations.group.yesterday:Yesterday`,
  week: $localize`:@@conversations.group.week:Previous 7 days`,
  older: $localize`:@@conversations.group.older:Older`,
};

const ORDER: GroupKey[] = ['pinned', 'today', 'yesterday', 'week', 'older'];

/** When a conversation last changed, in epoch milliseconds (0 when unknown). */
export function updatedAt(c: Conversation): number {
  const t = c.updateTime ?? c.createTime;
  return t ? timestampDate(t).getTime() : 0;
}

/** Local midnight of the day `days` days before now's day. */
function startOfDay(now: Date, days: number): number {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - days).getTime();
}

/**
 * The section a conversation belongs in at `now`, by the calendar days of the browser's time
 * zone: pinned first whatever its age; then today, yesterday, the 7 days before yesterday and
 * older. A time in the future (a clock ahead of ours) counts as today.
 */
export function groupOf(c: Conversation, now: Date): GroupKey {
  if (c.pinned) return 'pinned';
  const t = updatedAt(c);
  if (t >= startOfDay(now, 0)) return 'today';
  if (t >= startOfDay(now, 1)) return 'yesterday';
  if (t >= startOfDay(now, 8)) return 'week';
  return 'older';
}

/**
 * Splits conversations into the list's sections, each newest first, leaving out empty
 * sections. Pinned conversations are their own section on top.
 */
export function groupConversations(list: readonly Conversation[], now: Date): ConversationGroup[] {
  const by = new Map<GroupKey, Conversation[]>();
  for (const c of list) {
    const k = groupOf(c, now);
    const arr = by.get(k) ?? [];
    arr.push(c);
    by.set(k, arr);
  }
  const out: ConversationGroup[] = [];
  for (const key of ORDER) {
    const conversations = by.get(key);
    if (!conversations) continue;
    conversations.sort((a, b) => updatedAt(b) - updatedAt(a) || a.id.localeCompare(b.id));
    out.push({ key, label: GROUP_LABELS[key], conversations });
  }
  return out;
}
