/**
 * A point in time to the microsecond, as PostgreSQL's timestamptz keeps it.
 * A JavaScript Date keeps milliseconds only, so instants that come from
 * clients (an order's date) are kept as microseconds since the Unix epoch,
 * in a bigint: the range of google.protobuf.Timestamp (years 1 to 9999)
 * needs 58 bits, more than a number holds exactly.
 */
export class Instant {
  private constructor(
    /** Microseconds since 1970-01-01T00:00:00Z. */
    readonly epochMicros: bigint,
  ) {}

  static fromEpochMicros(micros: bigint): Instant {
    return new Instant(micros);
  }

  static fromDate(date: Date): Instant {
    return new Instant(BigInt(date.getTime()) * 1000n);
  }

  /** Digits below the microsecond (a Timestamp has nanoseconds) are dropped. */
  static fromSecondsAndNanos(seconds: bigint, nanos: number): Instant {
    return new Instant(seconds * 1_000_000n + BigInt(Math.trunc(nanos / 1000)));
  }

  /** Whole seconds since the epoch, and the nanoseconds after them (0 to 999,999,999), as a Timestamp has them. */
  toSecondsAndNanos(): { seconds: bigint; nanos: number } {
    const seconds = floorDiv(this.epochMicros, 1_000_000n);
    return { seconds, nanos: Number(this.epochMicros - seconds * 1_000_000n) * 1000 };
  }

  /** Milliseconds since the epoch, rounded down. */
  get epochMillis(): number {
    return Number(floorDiv(this.epochMicros, 1000n));
  }

  /** Whether the instant has digits below the millisecond. */
  get hasSubMillis(): boolean {
    return this.epochMicros % 1000n !== 0n;
  }

  compare(other: Instant): number {
    return this.epochMicros < other.epochMicros ? -1 : this.epochMicros > other.epochMicros ? 1 : 0;
  }

  /**
   * RFC 3339 in UTC: "2024-05-01T12:00:00.123Z" when the instant falls on a
   * millisecond, as JavaScript's toISOString writes it, else with all six
   * digits, "2024-05-01T12:00:00.123456Z". Years 1 to 9999 only.
   */
  toString(): string {
    const iso = new Date(this.epochMillis).toISOString();
    if (!this.hasSubMillis) return iso;
    const micros = Number(this.epochMicros - floorDiv(this.epochMicros, 1000n) * 1000n);
    return `${iso.slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? quotient - 1n : quotient;
}

/**
 * Date-time text as clients write it:
 *
 * - RFC 3339, with "T", "t" or a space between date and time, any number of
 *   fraction digits, and "Z" or an offset ("+02:00", also "+0200");
 * - what Python's str(datetime) and isoformat() give ("2026-11-30
 *   08:44:59.123456", "2026-11-30T08:44:59+05:30", an offset with seconds),
 *   also with a "Z" appended, as the order tutorial's client does;
 * - a time of hours and minutes only ("2024-05-01T12:00");
 * - a plain date ("2024-05-01"), meaning its midnight.
 *
 * Without an offset the time is UTC, whatever this machine's time zone.
 * Digits below the microsecond are dropped; a leap second (":60") is the
 * first instant of the next minute, as PostgreSQL reads it. Returns
 * undefined for anything else, including dates that do not exist
 * (2023-02-29) and fields out of range (25:00).
 */
export function parseInstant(text: string): Instant | undefined {
  const match = dateTimePattern.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", zone = ""] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60) return undefined;
  const offsetSeconds = parseOffset(zone);
  if (offsetSeconds === undefined) return undefined;
  // Date.UTC reads years 0 to 99 as 1900 to 1999: set the year apart.
  const midnight = new Date(0);
  midnight.setUTCFullYear(y, mo - 1, d);
  const wholeSeconds = BigInt(midnight.getTime() / 1000 + h * 3600 + mi * 60 + s - offsetSeconds);
  const micros = BigInt(fraction.slice(0, 6).padEnd(6, "0"));
  return Instant.fromEpochMicros(wholeSeconds * 1_000_000n + micros);
}

// Year, month, day; then optionally T/t/space, hour, minute, optional
// second and fraction; then optionally Z/z and/or an offset.
const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2}(?::\d{2})?)?[Zz]?)?)?$/;

/** "Z", "+02:00", "+0200", "+02", "+05:30:15" (Python), possibly followed by a "Z"; in seconds east of UTC. */
function parseOffset(zone: string): number | undefined {
  const offset = zone.replace(/[Zz]$/, "");
  if (offset === "") return 0;
  const match = /^([+-])(\d{2})(?::?(\d{2})(?::(\d{2}))?)?$/.exec(offset);
  if (match === null) return undefined;
  const [, sign, hours, minutes = "0", seconds = "0"] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined;
  // "+00:00Z" is what an aware Python datetime gets from f"{dt}Z"; another offset and a Z contradict each other.
  const total = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  if (zone !== offset && total !== 0) return undefined;
  return (sign === "-" ? -1 : 1) * total;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
