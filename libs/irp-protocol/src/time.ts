/**
 * Formats a time as RFC 3339 in UTC with second precision and `Z`
 * (spec §3: `2026-11-25T08:00:00Z`). Milliseconds are truncated.
 *
 * @throws RangeError for an invalid date or a year outside 0000–9999
 */
export function formatTime(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError('Invalid Date');
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  if (iso.length !== 24) throw new RangeError(`Year out of range for RFC 3339: ${iso}`);
  return `${iso.slice(0, 19)}Z`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time (section 5.6) into a `Date`. Any offset is
 * accepted and converted to UTC; fractions are kept to the millisecond. A leap
 * second (`:60`) and impossible dates (`02-30`) are refused. Returns
 * `undefined` when the text is not such a time.
 */
export function parseTime(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0); // day 0 of the next month (years < 100 stay as is)
  if (day > lastDay.getUTCDate()) return undefined;
  const fraction = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, fraction);
  if (!m[8]) {
    const sign = m[9] === '-' ? -1 : 1;
    const offH = Number(m[10]);
    const offM = Number(m[11]);
    if (offH > 23 || offM > 59) return undefined;
    d.setTime(d.getTime() - sign * (offH * 60 + offM) * 60_000);
  }
  return d;
}
