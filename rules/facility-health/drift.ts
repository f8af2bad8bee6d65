/** A (time, value) sample for the drift fit; one per bucket keeps the state bounded. */
export interface DriftSample {
  at: number;
  value: number;
}

export interface LinearFit {
  /** Units per millisecond. */
  slope: number;
  /** Coefficient of determination, 0..1 (1 when every sample is on the line). */
  r2: number;
  spanMs: number;
}

/** Ordinary least squares over the samples; undefined with fewer than three or no time span. */
export function fitLine(samples: readonly DriftSample[]): LinearFit | undefined {
  const n = samples.length;
  if (n < 3) return undefined;
  const t0 = samples[0]!.at;
  let sx = 0, sy = 0;
  for (const s of samples) { sx += s.at - t0; sy += s.value; }
  const mx = sx / n, my = sy / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (const s of samples) {
    const dx = s.at - t0 - mx, dy = s.value - my;
    sxx += dx * dx; sxy += dx * dy; syy += dy * dy;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  // A flat series (syy = 0) has no drift to explain: r2 = 0 keeps it from firing.
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slope, r2, spanMs: samples[n - 1]!.at - t0 };
}

/**
 * Add a sample, keeping one per bucket (the latest) and only those inside the window.
 * Returns a new array: the decider's state is never mutated in place.
 */
export function addDriftSample(samples: readonly DriftSample[], sample: DriftSample, bucketMs: number, windowMs: number): DriftSample[] {
  const last = samples[samples.length - 1];
  const kept = last && Math.floor(last.at / bucketMs) === Math.floor(sample.at / bucketMs) ? samples.slice(0, -1) : samples.slice();
  kept.push(sample);
  const from = sample.at - windowMs;
  return kept.filter((s) => s.at >= from);
}
