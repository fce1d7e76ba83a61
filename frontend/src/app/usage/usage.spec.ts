import { TestBed } from '@angular/core/testing';
import { create } from '@bufbuild/protobuf';
import { UsageDimension, UsageRowSchema } from '@gen/portico/admin/v1/admin_pb';
import { rowLabel, usageCsv } from './admin-usage.page';
import { UsageChart } from './usage-chart';
import { csvCell } from './usage-format';

describe('usage CSV', () => {
  it('writes a header and exact costs, quoting where needed', () => {
    const row = create(UsageRowSchema, {
      day: '2026-11-24',
      user: 'alice',
      department: 'Research',
      group: 'ML, Users',
      modelId: 'amazon.nova-lite-v1:0',
      totals: { requests: 2n, totalTokens: 30n, inputTokens: 10n, outputTokens: 20n, estimatedCost: { currencyCode: 'USD', units: 1n, nanos: 4500000 } },
    });
    const lines = usageCsv([row]).trim().split('\r\n');
    expect(lines[0]).toBe('day,user,department,group,model_id,requests,errors,input_tokens,output_tokens,total_tokens,estimated_cost,currency');
    expect(lines[1]).toBe('2026-11-24,alice,Research,"ML, Users",amazon.nova-lite-v1:0,2,0,10,20,30,1.0045,USD');
  });

  it('defuses spreadsheet formulas', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });

  it('labels rows by the chosen dimensions', () => {
    const row = create(UsageRowSchema, { user: 'alice', department: 'Research', modelId: 'm', day: 'd' });
    expect(rowLabel(row, [UsageDimension.USER, UsageDimension.MODEL])).toBe('alice · m');
    expect(rowLabel(row, [UsageDimension.DEPARTMENT])).toBe('Research');
    expect(rowLabel(create(UsageRowSchema, {}), [UsageDimension.DEPARTMENT])).toBe('—');
    expect(rowLabel(row, [])).toBe('All');
  });
});

describe('UsageChart', () => {
  it('draws one bar per row scaled to the largest', async () => {
    const fixture = TestBed.createComponent(UsageChart);
    fixture.componentRef.setInput('bars', [
      { label: 'alice', value: 100, detail: '100' },
      { label: 'dana', value: 50, detail: '50' },
    ]);
    await fixture.whenStable();
    const rects = (fixture.nativeElement as HTMLElement).querySelectorAll('rect');
    expect(rects).toHaveLength(2);
    expect(Number(rects[0]!.getAttribute('width'))).toBeCloseTo(2 * Number(rects[1]!.getAttribute('width')));
  });
});
