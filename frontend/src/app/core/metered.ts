import { Injectable, signal } from '@angular/core';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import type { Interceptor } from '@connectrpc/connect';

/** The service whose calls consume quota. */
const INFERENCE_SERVICE = 'portico.inference.v1.InferenceService';

/**
 * Counts the calls that may have consumed quota (the inference service's calls with side
 * effects: Converse, streams, endpoint invocations), once each has ended — answered, failed or
 * refused — so views of usage (the quota banner) can refresh without the pages that make the
 * calls knowing about them.
 */
@Injectable({ providedIn: 'root' })
export class MeteredCalls {
  private readonly count = signal(0);

  /** How many metered calls have ended in this page; read it to react to the next one. */
  readonly ended = this.count.asReadonly();

  /** Records that a metered call ended. */
  notify(): void {
    this.count.update((n) => n + 1);
  }
}

/** Whether a call may consume quota: an inference call that is not side-effect free. */
export function isMetered(typeName: string, idempotency: MethodOptions_IdempotencyLevel): boolean {
  return typeName === INFERENCE_SERVICE && idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
}

/** An interceptor that calls ended once a metered call is over (a stream when it closes). */
export function meteredInterceptor(ended: () => void): Interceptor {
  return (next) => async (req) => {
    if (!isMetered(req.service.typeName, req.method.idempotency)) return next(req);
    let res;
    try {
      res = await next(req);
    } catch (err) {
      ended();
      throw err;
    }
    if (!res.stream) {
      ended();
      return res;
    }
    const messages = res.message;
    async function* watched() {
      try {
        yield* messages;
      } finally {
        ended();
      }
    }
    return { ...res, message: watched() };
  };
}
