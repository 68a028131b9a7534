// Issues, events and a fake api for the Errors page's tests.
import { vi } from "vitest";
import type { FrameView, IssuePage, IssueQuery, IssueStatus, SentryEvent, SentryIssue } from "../ipc";

export function issue(id: string, overrides: Partial<SentryIssue> = {}): SentryIssue {
  return {
    id,
    shortId: `SHOP-${id}`,
    title: `TypeError: cannot read ${id}`,
    culprit: `shop/views.py in view_${id}`,
    level: "error",
    status: "unresolved",
    count: 12,
    userCount: 3,
    firstSeen: "2026-11-20T10:00:00Z",
    lastSeen: "2026-11-24T10:00:00Z",
    permalink: `https://sentry.example/organizations/acme/issues/${id}/`,
    firstRelease: null,
    isUnhandled: false,
    ...overrides,
  };
}

export function frame(overrides: Partial<FrameView> = {}): FrameView {
  return {
    filename: "shop/views.py",
    function: "checkout",
    module: "shop.views",
    line: 42,
    column: null,
    inApp: true,
    context: [
      { line: 41, text: "    cart = load_cart(request)", current: false },
      { line: 42, text: "    total = cart.total()", current: true },
      { line: 43, text: "    return render(total)", current: false },
    ],
    vars: [
      { key: "request", value: "<WSGIRequest: GET '/checkout'>" },
      { key: "password", value: "[Filtered]" },
    ],
    ...overrides,
  };
}

export function event(overrides: Partial<SentryEvent> = {}): SentryEvent {
  return {
    id: "e2aaaaaaaaaa",
    title: "TypeError: cannot read",
    message: null,
    date: "2026-11-24T10:00:00Z",
    release: "3f2a1bc",
    environment: "production",
    exceptions: [
      {
        kind: "TypeError",
        value: "'NoneType' object has no attribute 'total'",
        // Oldest call first, as Sentry sends them: library, own, three library frames, own (the failing one).
        frames: [
          frame({ filename: "django/core/handlers/base.py", function: "get_response", inApp: false, line: 10 }),
          frame({ filename: "shop/urls.py", function: "dispatch", line: 7 }),
          frame({ filename: "django/views/generic/base.py", function: "view", inApp: false, line: 20 }),
          frame({ filename: "django/utils/decorators.py", function: "wrapped", inApp: false, line: 30 }),
          frame({ filename: "django/contrib/auth/decorators.py", function: "inner", inApp: false, line: 40 }),
          frame({ filename: "shop/views.py", function: "checkout", line: 42 }),
        ],
      },
    ],
    breadcrumbs: [
      { timestamp: "2026-11-24T09:59:58Z", category: "http", level: "info", message: "GET /cart 200" },
      { timestamp: "2026-11-24T09:59:59Z", category: "query", level: "info", message: "SELECT * FROM cart" },
    ],
    request: { method: "GET", url: "https://shop.example/checkout", query: null },
    tags: [
      { key: "browser", value: "Firefox 133" },
      { key: "environment", value: "production" },
    ],
    previousEventId: "e1",
    nextEventId: "e3",
    ...overrides,
  };
}

export interface FakeOptions {
  pages?: Record<string, IssuePage>;
  event?: SentryEvent;
}

/** Sentry as the page sees it: pages by cursor (the first under ""), filtered by status. */
export function fakeApi(options: FakeOptions = {}) {
  const pages = options.pages ?? { "": { issues: [issue("1"), issue("2"), issue("3")], next: null, previous: null } };
  const api = {
    sentryIssues: vi.fn(async (_path: string, query: IssueQuery): Promise<IssuePage> => {
      const page = pages[query.cursor ?? ""] ?? { issues: [], next: null, previous: null };
      const status = query.status ?? "unresolved";
      return { ...page, issues: page.issues.filter((row) => status === "all" || row.status === status) };
    }),
    sentryIssue: vi.fn(async (_path: string, id: string): Promise<SentryIssue> => issue(id, { firstRelease: "2c1d0e9" })),
    sentryEvent: vi.fn(async (_path: string, _issueId: string, eventId: string | null): Promise<SentryEvent> => {
      const base = options.event ?? event();
      return eventId === null ? base : { ...base, id: eventId, previousEventId: "e2aaaaaaaaaa", nextEventId: null };
    }),
    setIssueStatus: vi.fn(async (_path: string, _ids: string[], _status: IssueStatus): Promise<null> => null),
    openExternal: vi.fn(async (_url: string): Promise<void> => {}),
  };
  return api;
}

/** A promise settled from outside, to see the page while a request is on its way. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}
