import { describe, expect, it } from "vitest";
import { dayAndTime, exact, iso, relative } from "./time";

// Local times, so the words hold in any time zone the tests run in.
const now = new Date(2026, 11, 6, 14, 30).getTime(); // Sunday 6 Dec 2026, 14:30
const at = (month: number, day: number, hour: number, minute: number, year = 2026) =>
  new Date(year, month, day, hour, minute).toISOString();

describe("one date format", () => {
  it("is relative within the hour, then the day and the local time", () => {
    expect(relative(now - 10_000, now)).toBe("just now");
    expect(relative(now - 3 * 60_000, now)).toBe("3 min ago");
    expect(relative(now - 59 * 60_000, now)).toBe("59 min ago");
    expect(relative(at(11, 6, 9, 5), now)).toBe("today 09:05");
    expect(relative(at(11, 5, 17, 40), now)).toBe("yesterday 17:40");
    expect(relative(at(11, 2, 8, 0), now)).toBe("Wednesday 08:00");
    expect(relative(at(10, 24, 10, 0), now)).toBe("24 Nov 10:00");
    expect(relative(at(10, 24, 10, 0, 2025), now)).toBe("24 Nov 2025 10:00");
  });

  it("names a moment in a sentence without 'ago'", () => {
    expect(dayAndTime(now - 3 * 60_000, now)).toBe("today 14:27");
    expect(dayAndTime(at(11, 5, 23, 59), now)).toBe("yesterday 23:59");
  });

  it("gives the exact local time on hover and ISO 8601 in exports", () => {
    expect(exact(at(11, 6, 14, 2))).toBe("Sunday 6 Dec 2026, 14:02:00");
    expect(iso(Date.UTC(2026, 11, 6, 14, 2, 31))).toBe("2026-12-06T14:02:31.000Z");
    expect(iso("2026-12-06T14:02:31.123Z")).toBe("2026-12-06T14:02:31.123Z");
  });

  it("keeps text it cannot read as it was, and says nothing of nothing", () => {
    expect(relative("soon", now)).toBe("soon");
    expect(relative(null, now)).toBe("");
    expect(iso("soon")).toBe("");
  });
});
