import { DestroyRef, inject } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import { GetMeResponseSchema, IdentityService } from '@gen/portico/identity/v1/identity_pb';
import { InferenceService } from '@gen/portico/inference/v1/inference_pb';
import { QuotaAlertSchema, QuotaStatusSchema, QuotaSubject, QuotaUnit, QuotaWindow, type QuotaStatus } from '@gen/portico/type/v1/quota_pb';
import { Api } from '../core/api';
import { MeteredCalls, meteredInterceptor } from '../core/metered';
import { SessionService } from '../core/session';
import { TRANSPORT } from '../core/transport';
import {
  DISMISSED_KEY,
  loadDismissed,
  meterOfAlert,
  meterOfQuota,
  quotaAlerts,
  saveDismissed,
  thresholdOf,
  type Meter,
} from './quota-alerts';
import { QuotaAlertsService } from './quota-alerts.service';
import { alertDetail, alertTitle } from './quota-banner';

const RESET = new Date('2030-01-02T00:00:00Z');

function tokensPerDay(used: bigint, limit: bigint, remaining?: bigint): QuotaStatus {
  return create(QuotaStatusSchema, {
    limit: { subject: QuotaSubject.USER, window: QuotaWindow.DAY, unit: QuotaUnit.TOKENS, limit },
    used,
    remaining: remaining ?? (limit > used ? limit - used : 0n),
    resetsAt: timestampFromDate(RESET),
  });
}

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    clear: () => m.clear(),
    key: (i) => [...m.keys()][i] ?? null,
    get length() {
      return m.size;
    },
  };
}

describe('quota thresholds', () => {
  it('are reached exactly at 80 % and 100 %, in integers', () => {
    const cases: [bigint, bigint, 80 | 100 | null][] = [
      [0n, 1000n, null],
      [799n, 1000n, null],
      [800n, 1000n, 80],
      [999n, 1000n, 80],
      [1000n, 1000n, 100],
      [1500n, 1000n, 100],
      // 80 % of 3 is 2.4: 2 is below, 3 is the limit.
      [2n, 3n, null],
      [3n, 3n, 100],
      // Limits past 2^53 stay exact.
      [7_205_759_403_792_793n, 9_007_199_254_740_993n, null],
      [7_205_759_403_792_795n, 9_007_199_254_740_993n, 80],
      // No limit, no alert.
      [5n, 0n, null],
    ];
    for (const [used, limit, want] of cases) expect(thresholdOf(used, limit), `${used}/${limit}`).toBe(want);
  });
});

describe('quota alerts', () => {
  it('raise one alert per meter at its highest threshold, the most severe first', () => {
    const meters = [tokensPerDay(850n, 1000n), tokensPerDay(10n, 1000n), tokensPerDay(1000n, 1000n)].map(meterOfQuota);
    meters[2]!.key = 'other';
    const alerts = quotaAlerts(meters, new Set());
    expect(alerts.map((a) => [a.threshold, a.percent, a.left])).toEqual([
      [100, 100, '0 tokens'],
      [80, 85, '150 tokens'],
    ]);
  });

  it('say what is left and when it resets', () => {
    const [a] = quotaAlerts([meterOfQuota(tokensPerDay(160_000n, 200_000n, 39_000n))], new Set());
    expect(alertTitle(a!)).toBe('Your tokens per day: 80 % used');
    // What is left is the server's remaining (in-flight reservations count), not limit - used.
    expect(alertDetail(a!)).toMatch(/^39,000 tokens left until it resets .*2030/);
    const [full] = quotaAlerts([meterOfQuota(tokensPerDay(200_000n, 200_000n))], new Set());
    expect(alertTitle(full!)).toBe('Your tokens per day: limit reached');
    expect(alertDetail(full!)).toMatch(/^0 tokens left\. It resets .*2030/);
  });

  it('name a group pool and requests', () => {
    const s = create(QuotaStatusSchema, {
      limit: { subject: QuotaSubject.GROUP, group: 'MLUsers', window: QuotaWindow.MONTH, unit: QuotaUnit.REQUESTS, limit: 10n },
      used: 9n,
      remaining: 1n,
    });
    const [a] = quotaAlerts([meterOfQuota(s)], new Set());
    expect(alertTitle(a!)).toBe("Group MLUsers's requests per month: 90 % used");
    expect(alertDetail(a!)).toBe('1 request left.');
  });

  it('are dismissed per threshold and per window', () => {
    const storage = memoryStorage();
    const now = new Date('2030-01-01T12:00:00Z').getTime();
    const at80 = quotaAlerts([meterOfQuota(tokensPerDay(800n, 1000n))], new Set());
    saveDismissed(storage, 'alice', at80[0]!, now);
    const dismissed = loadDismissed(storage, 'alice', now);
    // The 80 % alert stays hidden; the 100 % one of the same window shows.
    expect(quotaAlerts([meterOfQuota(tokensPerDay(900n, 1000n))], dismissed)).toEqual([]);
    expect(quotaAlerts([meterOfQuota(tokensPerDay(1000n, 1000n))], dismissed).map((a) => a.threshold)).toEqual([100]);
    // The next window's 80 % shows again.
    const next: Meter = { ...meterOfQuota(tokensPerDay(800n, 1000n)), resetsAt: new Date('2030-01-03T00:00:00Z') };
    expect(quotaAlerts([next], dismissed).map((a) => a.threshold)).toEqual([80]);
    // Another user on this browser has dismissed nothing.
    expect(loadDismissed(storage, 'dana', now).size).toBe(0);
    // Once the window has ended, the dismissal is forgotten.
    expect(loadDismissed(storage, 'alice', RESET.getTime() + 1).size).toBe(0);
  });

  it('survive broken storage', () => {
    const storage = memoryStorage();
    storage.setItem(DISMISSED_KEY, '{not json');
    expect(loadDismissed(storage, 'alice').size).toBe(0);
    const [a] = quotaAlerts([meterOfQuota(tokensPerDay(900n, 1000n))], new Set());
    saveDismissed(storage, 'alice', a!);
    expect(loadDismissed(storage, 'alice').has(a!.id)).toBe(true);
  });
});

describe('QuotaAlertsService', () => {
  it('reads the alerts at start and again after each metered call ends (never after its own GetMe)', async () => {
    let used = 100n;
    let getMeCalls = 0;
    TestBed.configureTestingModule({
      providers: [
        {
          provide: TRANSPORT,
          useFactory: () => {
            const metered = inject(MeteredCalls);
            return createRouterTransport(
              ({ service }) => {
                service(IdentityService, {
                  getMe: () => {
                    getMeCalls++;
                    const status = tokensPerDay(used, 1000n);
                    return { alerts: used >= 800n ? [{ status, thresholdPercent: 80 }] : [] };
                  },
                });
                service(InferenceService, {
                  converse: () => {
                    used = 900n;
                    return {};
                  },
                });
              },
              { transport: { interceptors: [meteredInterceptor(() => metered.notify())] } },
            );
          },
        },
      ],
    });
    const session = TestBed.inject(SessionService);
    session.me.set(create(GetMeResponseSchema, { principal: { subject: 'sub-alice' }, entitlements: { modelIds: ['m'] } }));
    const alerts = TestBed.inject(QuotaAlertsService);
    const destroyed: (() => void)[] = [];
    alerts.start({ onDestroy: (fn: () => void) => destroyed.push(fn) } as unknown as DestroyRef);
    TestBed.tick();
    await vi.waitFor(() => expect(getMeCalls).toBe(1));
    expect(alerts.alerts()).toEqual([]);

    await TestBed.inject(Api).inference.converse({ modelId: 'm' });
    TestBed.tick();
    await vi.waitFor(() => expect(alerts.alerts().map((a) => a.threshold)).toEqual([80]));
    expect(getMeCalls).toBe(2);

    alerts.dismiss(alerts.alerts()[0]!);
    expect(alerts.alerts()).toEqual([]);
    destroyed.forEach((fn) => fn());
  });
});

describe('budget alerts', () => {
  it('show money left, at the threshold the server reports', () => {
    const status = create(QuotaStatusSchema, {
      limit: { subject: QuotaSubject.USER, window: QuotaWindow.MONTH, unit: QuotaUnit.COST, limit: 10_000_000_000n },
      used: 8_250_000_000n,
      remaining: 1_750_000_000n,
    });
    const [a] = quotaAlerts([meterOfAlert(create(QuotaAlertSchema, { status, thresholdPercent: 80 }))], new Set());
    expect(alertTitle(a!)).toBe('Your budget per month: 82 % used');
    expect(alertDetail(a!)).toBe('$1.75 left.');
    // The server's threshold wins over the figures (it counts at settle time).
    const [b] = quotaAlerts([meterOfAlert(create(QuotaAlertSchema, { status, thresholdPercent: 100 }))], new Set());
    expect(b!.threshold).toBe(100);
  });
});

describe('meteredInterceptor', () => {
  it('tells when an inference call with side effects ends: answered, refused or streamed to the end', async () => {
    let ended = 0;
    const transport = createRouterTransport(
      ({ service }) => {
        service(InferenceService, {
          getUsage: () => ({}),
          listModels: () => ({}),
          converse: (req) => {
            if (req.modelId === 'over') throw new ConnectError('quota', Code.ResourceExhausted);
            return {};
          },
          async *converseStream() {
            yield { event: { case: 'delta', value: { text: 'a' } } };
            yield { event: { case: 'delta', value: { text: 'b' } } };
          },
        });
      },
      { transport: { interceptors: [meteredInterceptor(() => ended++)] } },
    );
    const client = createClient(InferenceService, transport);
    await client.getUsage({});
    await client.listModels({});
    expect(ended, 'side-effect-free calls are not metered').toBe(0);
    await client.converse({ modelId: 'm' });
    expect(ended).toBe(1);
    await expect(client.converse({ modelId: 'over' })).rejects.toThrow();
    expect(ended).toBe(2);
    const stream = client.converseStream({ modelId: 'm' });
    let n = 0;
    for await (const _ of stream) {
      n++;
      expect(ended, 'not while the stream runs').toBe(2);
    }
    expect(n).toBe(2);
    expect(ended).toBe(3);
  });
});
