import type { Duration } from '@bufbuild/protobuf/wkt';
import type { FriendlyError } from '../core/errors';
import { DocumentFormat, ImageFormat, type Model } from '@gen/portico/inference/v1/inference_pb';
import type { InvocationMetrics } from '@gen/portico/type/v1/usage_pb';

/** An image or a document attached to a user message, kept as base64 to show and to send again. */
export interface Attachment {
  /** 'document' for documents; images leave it unset. */
  kind?: 'image' | 'document';
  name: string;
  /** The image format (images). */
  format?: ImageFormat;
  /** The document format (documents). */
  documentFormat?: DocumentFormat;
  size: number;
  base64: string;
}

/** A source an answer cites. */
export interface SourceCitation {
  number: number;
  title: string;
  location: string;
  excerpt: string;
  score: number;
}

/** What one answer used, in plain numbers. */
export interface AnswerMetrics {
  inputTokens: number;
  outputTokens: number;
  cost?: { currencyCode: string; units: string; nanos: number };
  estimated: boolean;
  latencyMs?: number;
  timeToFirstTokenMs?: number;
}

/** One message of the conversation as the page shows it. */
export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  attachments?: Attachment[];
  /**
   * How the message stands: done, streaming here, stopped by the person, failed, or
   * `incomplete` (the server still had it as being generated when the conversation was read).
   */
  status: 'done' | 'streaming' | 'stopped' | 'error' | 'incomplete';
  /** The server's id of the message, once the server has stored it. */
  serverId?: string;
  /** For an answer, how many of the oldest turns were not sent because they no longer fit. */
  droppedTurns?: number;
  modelId?: string;
  requestId?: string;
  stopReason?: string;
  metrics?: AnswerMetrics;
  error?: FriendlyError;
  /** The sources the answer cites (knowledge base or documents). */
  citations?: SourceCitation[];
}

/** The settings a conversation is sent with. */
export interface ChatSettings {
  systemPrompt: string;
  temperature: number;
  maxTokens: number;
}

/** The default settings. */
export const DEFAULT_SETTINGS: ChatSettings = { systemPrompt: '', temperature: 0.7, maxTokens: 1024 };

/** A Duration in milliseconds. */
export function durationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
}

/** Converts InvocationMetrics to AnswerMetrics. */
export function toAnswerMetrics(m: InvocationMetrics): AnswerMetrics {
  return {
    inputTokens: Number(m.inputTokens),
    outputTokens: Number(m.outputTokens),
    cost: m.estimatedCost
      ? { currencyCode: m.estimatedCost.currencyCode, units: m.estimatedCost.units.toString(), nanos: m.estimatedCost.nanos }
      : undefined,
    estimated: m.usageEstimated,
    latencyMs: durationMs(m.latency),
    timeToFirstTokenMs: durationMs(m.timeToFirstToken),
  };
}

const FORMATS: Record<string, ImageFormat> = {
  'image/png': ImageFormat.PNG,
  'image/jpeg': ImageFormat.JPEG,
  'image/gif': ImageFormat.GIF,
  'image/webp': ImageFormat.WEBP,
};

/** The Converse image format of a MIME type, or undefined when Converse does not take it. */
export function imageFormatOf(mime: string): ImageFormat | undefined {
  return FORMATS[mime.toLowerCase()];
}

/** Checks files against the model's Converse image limits; returns the problems in plain language. */
export function checkImages(
  files: readonly { name: string; type: string; size: number }[],
  already: number,
  model: Model | undefined,
): string[] {
  const caps = model?.capabilities;
  if (!caps?.images) {
    return [$localize`:@@chat.images.unsupported:This model does not accept images.`];
  }
  const problems: string[] = [];
  const maxImages = caps.maxImages > 0 ? caps.maxImages : 20;
  if (already + files.length > maxImages) {
    problems.push($localize`:@@chat.images.tooMany:This model takes at most ${maxImages}:max: images per conversation.`);
  }
  const maxBytes = Number(caps.maxImageBytes) > 0 ? Number(caps.maxImageBytes) : 3_750_000;
  for (const f of files) {
    if (imageFormatOf(f.type) === undefined) {
      problems.push($localize`:@@chat.images.format:${f.name}:name: is not a PNG, JPEG, GIF or WebP image.`);
    } else if (f.size > maxBytes) {
      problems.push(
        $localize`:@@chat.images.size:${f.name}:name: is larger than ${formatBytes(maxBytes)}:max:, the most this model accepts.`,
      );
    }
  }
  return problems;
}

/** A byte count for people. */
export function formatBytes(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)} MB`;
  if (n >= 1_000) return `${Math.round(n / 1_000)} kB`;
  return `${n} B`;
}

/** Base64 of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Bytes of base64. */
export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
