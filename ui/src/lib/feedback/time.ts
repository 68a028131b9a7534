// Times as a person reads them beside a release: a running clock, and how long ago.

/** A running clock: "0:04", "12:30", "1:02:03". */
export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** "just now", "2 min ago", "3 h ago", "4 days ago". */
export function ago(then: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return `${days} ${days === 1 ? "day" : "days"} ago`;
}

// One way to say when something happened, everywhere a release is named: relative while it
// is recent ("3 min ago"), then the day and the local time ("today 14:02", "yesterday 17:40",
// "Tuesday 09:12", "24 Nov 17:40", "24 Nov 2025 17:40"); the exact local time on hover
// (`exact`), and ISO 8601 in exports. English words, as every other word of the window.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const DAY_MS = 24 * 60 * 60 * 1000;

function parsed(instant: string | number | null | undefined): Date | null {
  if (instant === null || instant === undefined || instant === "") return null;
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) ? null : date;
}

function twoDigits(value: number): string {
  return String(value).padStart(2, "0");
}

/** Local midnight of the day `date` falls on. */
function dayStart(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** The day and the local time: "today 14:02", "yesterday 17:40", "Tuesday 09:12" (within the
 * week), "24 Nov 17:40" (this year), "24 Nov 2025 17:40". For sentences that name a release. */
export function dayAndTime(instant: string | number | null | undefined, now: number = Date.now()): string {
  const date = parsed(instant);
  if (!date) return typeof instant === "string" ? instant : "";
  const time = `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}`;
  const today = new Date(now);
  const days = Math.round((dayStart(today) - dayStart(date)) / DAY_MS);
  if (days === 0) return `today ${time}`;
  if (days === 1) return `yesterday ${time}`;
  if (days > 1 && days < 7) return `${WEEKDAYS[date.getDay()]} ${time}`;
  const day = `${date.getDate()} ${MONTHS[date.getMonth()]}`;
  return date.getFullYear() === today.getFullYear() ? `${day} ${time}` : `${day} ${date.getFullYear()} ${time}`;
}

/** When, as lists and cards say it: "just now", "3 min ago" within the hour, else `dayAndTime`. */
export function relative(instant: string | number | null | undefined, now: number = Date.now()): string {
  const date = parsed(instant);
  if (!date) return typeof instant === "string" ? instant : "";
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds >= 0 && seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (seconds >= 0 && minutes < 60) return `${Math.max(1, minutes)} min ago`;
  return dayAndTime(date.getTime(), now);
}

/** The exact local time, for a title on hover: "Sunday 6 Dec 2026, 14:02:31". */
export function exact(instant: string | number | null | undefined): string {
  const date = parsed(instant);
  if (!date) return typeof instant === "string" ? instant : "";
  const clockTime = `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}:${twoDigits(date.getSeconds())}`;
  return `${WEEKDAYS[date.getDay()]} ${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}, ${clockTime}`;
}

/** ISO 8601 in UTC, as exports write it: "2026-12-06T14:02:31.000Z". */
export function iso(instant: string | number | null | undefined): string {
  const date = parsed(instant);
  return date ? date.toISOString() : "";
}
