import type { Timestamp } from "../generated/google/protobuf/timestamp.js";

/**
 * RFC 3339 times on the wire (PROTOCOL.md sections 2 and 3) and their protobuf Timestamp form.
 * Strings are kept as given where they can be, since they hold nanoseconds a Date cannot.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Why text is not a real RFC 3339 date-time (a calendar date, a time of day), or undefined. */
export function rfc3339Problem(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return `"${text}" is not an RFC 3339 date-time such as 2026-11-22T10:00:00Z`;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return `"${text}" has no month ${month}`;
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `"${text}" is not a date: ${year}-${m[2]} has ${days} days`;
  if (hour > 23 || minute > 59 || second > 59) return `"${text}" is not a time of day (leap seconds are not accepted)`;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return `"${text}" has an impossible UTC offset`;
  // Else an offset could name an instant the Z form (and so the proto form) cannot write.
  const utcYear = new Date(wholeSecondsMs(text)).getUTCFullYear();
  if (utcYear < 0 || utcYear > 9999) return `"${text}" is outside the years 0000 to 9999 in UTC`;
  return undefined;
}

/** The instant of a matching RFC 3339 string, less its fraction; Date applies the offset. */
function wholeSecondsMs(text: string): number {
  return Date.parse(text.replace(/\.\d+/, ""));
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A checked RFC 3339 string as a Timestamp, keeping all nine digits of its fraction. */
export function timestampFromRfc3339(text: string): Timestamp {
  const m = RFC3339.exec(text);
  if (!m) throw new RangeError(rfc3339Problem(text));
  const fraction = m[7] ? m[7].slice(1).padEnd(9, "0") : "0";
  // Whole seconds through Date (offsets included), the fraction added exactly.
  return { seconds: BigInt(wholeSecondsMs(text) / 1000), nanos: Number(fraction) };
}

/** A Timestamp as RFC 3339 in UTC with nine fraction digits; undefined when out of range. */
export function rfc3339FromTimestamp({ seconds, nanos }: Timestamp): string | undefined {
  const date = new Date(Number(seconds) * 1000);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || nanos < 0 || nanos > 999_999_999 || year < 0 || year > 9999) return undefined;
  return `${date.toISOString().slice(0, 19)}.${String(nanos).padStart(9, "0")}Z`;
}

export function timestampFromDate(date: Date): Timestamp {
  const ms = date.getTime();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
}

export function dateFromTimestamp(timestamp: Timestamp | undefined): Date {
  if (!timestamp) return new Date(0);
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000));
}
