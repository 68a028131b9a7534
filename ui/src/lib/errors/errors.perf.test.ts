// How long a full page of issues and a long stack trace take to draw, under jsdom (slower than
// a browser). The bounds are generous so that only a real regression fails, never a slow machine.
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { FrameView } from "../ipc";
import { ErrorsStore, PAGE_SIZE } from "./errors.svelte";
import { event, fakeApi, frame, issue } from "./fixtures";
import IssueDetail from "./IssueDetail.svelte";
import IssueList from "./IssueList.svelte";
import StackTrace from "./StackTrace.svelte";

const BOUND_MS = 1000;

/** A frame as a real trace has them: eleven lines of code and a handful of variables. */
function heavyFrame(index: number, inApp: boolean): FrameView {
  return frame({
    filename: inApp ? `shop/module_${index}.py` : `site-packages/lib_${index}.py`,
    function: `function_${index}`,
    line: 100 + index,
    inApp,
    context: Array.from({ length: 11 }, (_, line) => ({
      line: 95 + index + line,
      text: `    value_${line} = compute(value_${line - 1}, option=${line})  # frame ${index}`,
      current: line === 5,
    })),
    vars: Array.from({ length: 8 }, (_, variable) => ({ key: `var_${variable}`, value: `'value ${variable} of ${index}'` })),
  });
}

/** 200 frames, a run of 4 own frames in every 20 (as a web framework's trace looks). */
function mixedFrames(): FrameView[] {
  return Array.from({ length: 200 }, (_, index) => heavyFrame(index, index % 20 >= 16));
}

function timed(label: string, work: () => void): number {
  const start = performance.now();
  work();
  const elapsed = performance.now() - start;
  console.log(`${label} in ${elapsed.toFixed(1)} ms`);
  return elapsed;
}

describe("drawing speed", () => {
  it("draws a page of 100 issues quickly", () => {
    const errors = new ErrorsStore(fakeApi());
    errors.issues = Array.from({ length: PAGE_SIZE }, (_, index) =>
      issue(String(index), { firstRelease: index % 3 === 0 ? "3f2a1bc" : null, isUnhandled: index % 2 === 0 }),
    );
    const elapsed = timed(`errors list: ${PAGE_SIZE} issues rendered`, () => {
      render(IssueList, { props: { errors } });
    });
    expect(screen.getAllByTestId("errors-row")).toHaveLength(PAGE_SIZE);
    expect(elapsed).toBeLessThan(BOUND_MS);
  });

  it("ticks every issue on the page at once quickly", async () => {
    const user = userEvent.setup();
    const errors = new ErrorsStore(fakeApi());
    errors.issues = Array.from({ length: PAGE_SIZE }, (_, index) => issue(String(index)));
    render(IssueList, { props: { errors } });
    const start = performance.now();
    await user.click(screen.getByTestId("errors-select-all"));
    const elapsed = performance.now() - start;
    console.log(`errors list: ${PAGE_SIZE} issues selected in ${elapsed.toFixed(1)} ms`);
    expect(screen.getAllByRole("checkbox", { checked: true })).toHaveLength(PAGE_SIZE + 1);
    expect(elapsed).toBeLessThan(BOUND_MS);
  });

  it("draws a 200-frame stack trace without a long freeze", () => {
    const frames = mixedFrames();
    const elapsed = timed("stack trace: 200 frames (40 own, 160 library) rendered", () => {
      render(StackTrace, { props: { exceptions: [{ kind: "TypeError", value: "boom", frames }] } });
    });
    // Library frames folded: only the 40 own frames are drawn, the nearest ten with their code.
    expect(screen.getAllByTestId("errors-frame")).toHaveLength(40);
    expect(screen.getAllByTestId("errors-context")).toHaveLength(10);
    expect(screen.getAllByTestId("errors-library-toggle")).toHaveLength(10);
    expect(elapsed).toBeLessThan(BOUND_MS);
  });

  it("draws 200 own frames quickly", () => {
    const own = Array.from({ length: 200 }, (_, index) => heavyFrame(index, true));
    const ownElapsed = timed("stack trace: 200 own frames rendered", () => {
      render(StackTrace, { props: { exceptions: [{ kind: "RecursionError", value: "too deep", frames: own }] } });
    });
    expect(screen.getAllByTestId("errors-frame")).toHaveLength(200);
    expect(ownElapsed).toBeLessThan(BOUND_MS);
  });

  it("unfolds a long run of library frames quickly", async () => {
    const user = userEvent.setup();
    const frames = Array.from({ length: 200 }, (_, index) => heavyFrame(index, index === 199));
    render(StackTrace, { props: { exceptions: [{ kind: "TypeError", value: "boom", frames }] } });
    const toggle = screen.getByTestId("errors-library-toggle");
    const start = performance.now();
    await user.click(toggle);
    const elapsed = performance.now() - start;
    console.log(`stack trace: 199 library frames unfolded in ${elapsed.toFixed(1)} ms`);
    expect(screen.getAllByTestId("errors-frame")).toHaveLength(200);
    expect(elapsed).toBeLessThan(BOUND_MS);
  });

  it("draws an issue's detail with a 200-frame event quickly", async () => {
    const api = fakeApi({
      event: event({
        exceptions: [{ kind: "TypeError", value: "boom", frames: mixedFrames() }],
        breadcrumbs: Array.from({ length: 100 }, (_, index) => ({
          timestamp: "2026-11-24T09:59:58Z",
          category: "http",
          level: "info",
          message: `GET /page/${index} 200`,
        })),
      }),
    });
    const errors = new ErrorsStore(api);
    errors.projectPath = "/p/shop";
    await errors.open(issue("1"));
    const elapsed = timed("error detail: 200-frame event with 100 breadcrumbs rendered", () => {
      render(IssueDetail, { props: { errors } });
    });
    const detail = screen.getByTestId("errors-detail");
    expect(within(detail).getAllByTestId("errors-frame")).toHaveLength(40);
    expect(elapsed).toBeLessThan(BOUND_MS);
  });
});
