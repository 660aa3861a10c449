import { describe, expect, it } from 'vitest';
import { runIssuanceBenchmark } from './issuance-benchmark.js';

describe('runIssuanceBenchmark', () => {
  it('returns rates and their ratio (smoke test; the numbers are for bench/, not asserted here)', async () => {
    const r = await runIssuanceBenchmark({ caAlgorithm: 'P-256', durationMs: 200 });
    expect(r.signaturesPerSecond).toBeGreaterThan(0);
    expect(r.certificatesPerSecond).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.certificatesPerSecond / r.signaturesPerSecond, 6);
    expect(r.certificateBytes).toBeGreaterThan(500);
  });
});
