/**
 * The pieces every alert message is built from. Readers are Chinese technicians, operators
 * and the city authority: a message is Chinese first, then the same in English after " / "
 * (so it can still be matched to the API, the logs and an English page), with units on
 * every number and durations in minutes, hours and days rather than raw seconds.
 */

/** `中文 / English`: one stored message for both readers, Chinese first. */
export const bilingual = (zh: string, en: string): string => `${zh} / ${en}`;

/** Rounded to `digits` decimals, trailing zeros dropped (3.2, not 3.20; 4, not 4.0). */
export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** `45 秒`, `12 分钟`, `1 小时 21 分钟`, `3 天 2 小时`: the largest two units that say it. */
export function durationZh(ms: number): string {
  return formatDuration(ms, { s: ' 秒', min: ' 分钟', h: ' 小时', d: ' 天' });
}

/** `45 s`, `12 min`, `1 h 21 min`, `3 d 2 h`. */
export function durationEn(ms: number): string {
  return formatDuration(ms, { s: ' s', min: ' min', h: ' h', d: ' d' });
}

function formatDuration(ms: number, u: { s: string; min: string; h: string; d: string }): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}${u.s}`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}${u.min}`;
  const hours = Math.floor(minutes / 60);
  // Up to two days the hour and minute both matter (a gateway down 1 h 21 min); past that, days and hours.
  if (hours < 48) return minutes % 60 === 0 ? `${hours}${u.h}` : `${hours}${u.h} ${minutes % 60}${u.min}`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days}${u.d}` : `${days}${u.d} ${hours % 24}${u.h}`;
}

/** A name with its id, as notify/message.ts writes places: `中心草坪(z-1)`; the id alone when no name is known. */
export const named = (name: string | undefined, id: string): string => (name && name !== id ? `${name}(${id})` : id);
