import { Code, ConnectError } from '@connectrpc/connect';
import { MessageState, type ConversationMessage } from '@gen/portico/conversation/v1/conversation_pb';
import { Role, StopReason } from '@gen/portico/inference/v1/inference_pb';
import { describeError, type FriendlyError } from '../core/errors';
import { toAnswerMetrics, toBase64, type Attachment, type ChatMessage } from './chat.models';

/** The Connect code named by a stored error code such as "resource_exhausted". */
export function codeOf(name: string): Code {
  const key = name
    .trim()
    .toLowerCase()
    .split('_')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : ''))
    .join('') as keyof typeof Code;
  const code = Code[key];
  return typeof code === 'number' ? code : Code.Unknown;
}

/** A failed answer's stored error code in plain language. */
export function storedError(errorCode: string, hadText: boolean): FriendlyError {
  return describeError(new ConnectError('', codeOf(errorCode || 'unknown')), { streaming: hadText });
}

const STATUS: Record<MessageState, ChatMessage['status']> = {
  [MessageState.UNSPECIFIED]: 'done',
  [MessageState.COMPLETE]: 'done',
  [MessageState.STREAMING]: 'incomplete',
  [MessageState.STOPPED]: 'stopped',
  [MessageState.FAILED]: 'error',
};

/** A stored message as the chat shows it: its text, images, state, error and usage. */
export function fromStored(m: ConversationMessage): ChatMessage {
  let text = '';
  const attachments: Attachment[] = [];
  for (const b of m.content) {
    if (b.block.case === 'text') {
      text += b.block.value;
    } else if (b.block.case === 'image' && b.block.value.data.length > 0) {
      const img = b.block.value;
      attachments.push({ name: `image-${attachments.length + 1}`, format: img.format, size: img.data.length, base64: toBase64(img.data) });
    } else if (b.block.case === 'document' && b.block.value.data.length > 0) {
      const doc = b.block.value;
      attachments.push({
        kind: 'document',
        name: doc.name,
        documentFormat: doc.format,
        size: doc.data.length,
        base64: toBase64(doc.data),
      });
    }
  }
  const status = STATUS[m.state] ?? 'done';
  const out: ChatMessage = {
    id: m.id,
    serverId: m.id,
    role: m.role === Role.USER ? 'user' : 'assistant',
    text,
    status,
  };
  if (attachments.length > 0) out.attachments = attachments;
  if (out.role === 'assistant') {
    if (m.modelId) out.modelId = m.modelId;
    if (m.requestId) out.requestId = m.requestId;
    if (m.stopReason !== StopReason.UNSPECIFIED) out.stopReason = StopReason[m.stopReason] ?? '';
    if (m.metrics) out.metrics = toAnswerMetrics(m.metrics);
    if (status === 'error') out.error = storedError(m.errorCode, text !== '');
  }
  return out;
}
