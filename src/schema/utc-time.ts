/**
 * Date-times in UTC as Date.prototype.toISOString writes them, without a Date: formatting through
 * one cost more than transcoding all the rest of a typical event.
 */

/** The first and the last millisecond that toISOString writes with a four-digit year (0000, 9999). */
const FIRST_MS = -62_167_219_200_000;
const LAST_MS = 253_402_300_799_999;

const MS_PER_DAY = 86_400_000;

/**
 * `YYYY-MM-DDTHH:MM:SS` of the second that holds `ms` (since the epoch), or undefined outside
 * the years 0000 to 9999.
 */
export function utcSecondText(ms: number): string | undefined {
  if (!(ms >= FIRST_MS && ms <= LAST_MS)) return undefined;
  const days = Math.floor(ms / MS_PER_DAY);
  const second = Math.floor((ms - days * MS_PER_DAY) / 1000);
  return `${civilDate(days)}T${two(Math.floor(second / 3600))}:${two(Math.floor(second / 60) % 60)}:${two(second % 60)}`;
}

/** date.toISOString(), faster. */
export function isoString(date: Date): string {
  const ms = date.getTime();
  const second = utcSecondText(ms);
  if (second === undefined) return date.toISOString();
  const milli = ms - Math.floor(ms / 1000) * 1000;
  return `${second}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}

/**
 * The proleptic Gregorian date `days` after 1970-01-01, as YYYY-MM-DD: Howard Hinnant's
 * civil_from_days (https://howardhinnant.github.io/date_algorithms.html), for years 0 to 9999.
 */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // March is 0
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
