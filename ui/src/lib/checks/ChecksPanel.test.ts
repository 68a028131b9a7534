import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { CheckEvent, ChecksRun, ProjectDetails } from "../ipc";
import { SlipwayError } from "../ipc";
import ChecksPanel from "./ChecksPanel.svelte";
import { ChecksStore, groupByFile, MAX_OUTPUT_LINES } from "./checks.svelte";

const details = { path: "/p/shop", saved: true, settings: {}, detection: {}, git: null } as unknown as ProjectDetails;

function storeWith(run: (emit: (event: CheckEvent) => void) => Promise<ChecksRun>) {
  let cancelled = false;
  const store = new ChecksStore({
    detectProject: async () => details,
    saveProjectSettings: async (_path, settings) => settings,
    runChecks: (_path, _selection, onEvent) => run(onEvent),
    cancelChecks: async () => {
      cancelled = true;
      return true;
    },
    setProjectValue: async () => details.settings,
    unsetProjectValue: async () => details.settings,
  });
  store.details = details;
  return { store, wasCancelled: () => cancelled };
}

const failingRun: ChecksRun = {
  tests: {
    outcome: "failed",
    counts: { passed: 3, failed: 1, errors: 0, skipped: 1 },
    failures: [{ nodeId: "tests/test_cart.py::test_total", message: "AssertionError: cart total is wrong", traceback: "E assert 3 == 4", file: null, line: null, got: null, expected: null, explanation: null }],
    summaryLine: "1 failed, 3 passed, 1 skipped in 0.1s",
    exitCode: 1,
    problem: null,
    durationMs: 100,
  },
  lint: null,
  gates: [],
};

describe("the checks panel", () => {
  it("streams output, then lists failing tests with their traceback", async () => {
    const user = userEvent.setup();
    const { store } = storeWith(async (emit) => {
      emit({ event: "started", data: { check: "tests", command: "pytest -q" } });
      emit({ event: "output", data: { check: "tests", stream: "stdout", line: "collected 5 items", atMs: 1 } });
      return failingRun;
    });
    render(ChecksPanel, { store });
    await user.click(screen.getByRole("button", { name: "Run tests" }));
    const output = await screen.findByLabelText("Output");
    expect(output).toHaveTextContent("$ pytest -q");
    expect(output).toHaveTextContent("collected 5 items");
    const results = screen.getByRole("region", { name: "Test results" });
    expect(within(results).getByTestId("test-counts")).toHaveTextContent("3 passed · 1 failed · 0 errors · 1 skipped");
    expect(within(results).getByText("test_total")).toBeInTheDocument();
    expect(within(results).getByText("AssertionError: cart total is wrong")).toBeVisible();
    await user.click(within(results).getByText("Full traceback"));
    expect(within(results).getByText("E assert 3 == 4")).toBeVisible();
  });

  it("reads a failing comparison as expected and got, keeps pytest's diff on its lines, and opens the test", async () => {
    const user = userEvent.setup();
    const explanation = "AssertionError: assert '£4.5' == '£4.50'\n\n  - £4.50\n  ?     -\n  + £4.5";
    const { store } = storeWith(async () => ({
      ...failingRun,
      tests: {
        ...failingRun.tests!,
        failures: [
          {
            nodeId: "tests/test_prices.py::test_price",
            message: "AssertionError: assert '£4.5' == '£4.50'",
            traceback: "tests/test_prices.py:5: AssertionError",
            file: "tests/test_prices.py",
            line: 5,
            got: "'£4.5'",
            expected: "'£4.50'",
            explanation,
          },
        ],
      },
    }));
    render(ChecksPanel, { store });
    await user.click(screen.getByRole("button", { name: "Run tests" }));
    const failure = await screen.findByTestId("test-failure");
    expect(failure).toHaveTextContent("test_price in tests/test_prices.py, line 5");
    const sides = within(failure).getByTestId("test-sides");
    expect(within(sides).getByText("Expected").nextElementSibling).toHaveTextContent("'£4.50'");
    expect(within(sides).getByText("Got").nextElementSibling).toHaveTextContent("'£4.5'");
    // Its lines as pytest printed them, not one flattened line.
    expect(within(failure).getByTestId("test-explanation").textContent).toBe(explanation);
    const button = within(failure).getByRole("button", { name: "Open in editor" });
    expect(button).toHaveAttribute("data-path", "tests/test_prices.py");
    expect(button).toHaveAttribute("data-line", "5");
  });

  it("groups violations by file, each by line with its rule in plain words and the rule's page", async () => {
    const user = userEvent.setup();
    const { store } = storeWith(async () => ({
      tests: null,
      lint: {
        tool: "flake8",
        outcome: "failed",
        problem: null,
        exitCode: 1,
        durationMs: 5,
        violations: [
          { path: "shop/views.py", line: 9, column: 1, code: "E302", message: "expected 2 blank lines", explanation: null, helpUrl: null },
          {
            path: "app.py",
            line: 1,
            column: 1,
            code: "F401",
            message: "'os' imported but unused",
            explanation: "A module is imported but never used: remove the import.",
            helpUrl: "https://flake8.pycqa.org/en/latest/user/error-codes.html",
          },
          { path: "shop/views.py", line: 3, column: 80, code: "E501", message: "line too long", explanation: null, helpUrl: null },
        ],
      },
      gates: [],
    }));
    render(ChecksPanel, { store });
    await user.click(screen.getByRole("button", { name: "Run lint" }));
    expect(await screen.findByTestId("lint-counts")).toHaveTextContent("3 violations");
    const views = screen.getByRole("list", { name: "Violations in shop/views.py" });
    const items = within(views).getAllByRole("listitem").map((item) => item.textContent);
    expect(items[0]).toContain("line 3 E501 line too long");
    expect(items[1]).toContain("line 9 E302");
    const app = screen.getByRole("list", { name: "Violations in app.py" });
    expect(within(app).getByTestId("violation-explanation")).toHaveTextContent(
      "A module is imported but never used: remove the import.",
    );
    expect(within(app).getByRole("link", { name: "About F401" })).toHaveAttribute(
      "href",
      "https://flake8.pycqa.org/en/latest/user/error-codes.html",
    );
    expect(within(app).getByRole("button", { name: "Open in editor" })).toHaveAttribute("data-path", "app.py");
  });

  it("says why tests could not run, and shows a failed call as an error", async () => {
    const user = userEvent.setup();
    const { store } = storeWith(async () => ({
      tests: { ...failingRun.tests!, outcome: "couldNotRun", failures: [], problem: "The tests could not start:\nKeyError: 'SHOP_NAME'" },
      lint: null,
      gates: [],
    }));
    render(ChecksPanel, { store });
    await user.click(screen.getByRole("button", { name: "Run tests" }));
    expect(await screen.findByRole("heading", { name: "Tests could not run" })).toBeInTheDocument();
    expect(screen.getByText(/KeyError: 'SHOP_NAME'/)).toBeInTheDocument();

    const failing = storeWith(async () => {
      throw new SlipwayError({ kind: "precondition", message: "pip install failed", hint: "Check the requirements." });
    });
    render(ChecksPanel, { store: failing.store });
    await user.click(screen.getAllByRole("button", { name: "Run tests" })[1]!);
    expect(await screen.findByRole("alert")).toHaveTextContent("pip install failed");
  });

  it("cancels a running check", async () => {
    const user = userEvent.setup();
    let finish: (run: ChecksRun) => void = () => {};
    const { store, wasCancelled } = storeWith(() => new Promise((resolve) => (finish = resolve)));
    render(ChecksPanel, { store });
    await user.click(screen.getByRole("button", { name: "Run tests" }));
    await user.click(await screen.findByRole("button", { name: "Cancel" }));
    expect(wasCancelled()).toBe(true);
    finish({ tests: { ...failingRun.tests!, outcome: "canceled", failures: [] }, lint: null, gates: [] });
    expect(await screen.findByRole("heading", { name: "Tests cancelled" })).toBeInTheDocument();
  });

  it("shows nothing of the previous project's runs once another project is loaded", async () => {
    const user = userEvent.setup();
    const { store } = storeWith(async () => failingRun);
    render(ChecksPanel, { store });
    await user.click(screen.getByRole("button", { name: "Run tests" }));
    await screen.findByRole("region", { name: "Test results" });
    await store.load("/p/other");
    expect(screen.queryByRole("region", { name: "Test results" })).not.toBeInTheDocument();
    expect(store.output).toEqual([]);
  });

  it("keeps a bounded output", () => {
    const { store } = storeWith(async () => failingRun);
    const receive = (store as unknown as { receive(e: CheckEvent): void }).receive.bind(store);
    for (let index = 0; index < MAX_OUTPUT_LINES + 10; index++) {
      receive({ event: "output", data: { check: "tests", stream: "stdout", line: `line ${index}`, atMs: index } });
    }
    expect(store.output).toHaveLength(MAX_OUTPUT_LINES);
    expect(store.output[0]?.text).toBe("line 10");
  });

  it("sorts groups and lines", () => {
    const groups = groupByFile({
      tool: "ruff",
      outcome: "failed",
      problem: null,
      exitCode: 1,
      durationMs: 1,
      violations: [
        { path: "b.py", line: 2, column: 1, code: "F", message: "", explanation: null, helpUrl: null },
        { path: "a.py", line: 5, column: 1, code: "F", message: "", explanation: null, helpUrl: null },
        { path: "b.py", line: 1, column: 1, code: "F", message: "", explanation: null, helpUrl: null },
      ],
    });
    expect(groups.map((group) => group.path)).toEqual(["a.py", "b.py"]);
    expect(groups[1]?.violations.map((v) => v.line)).toEqual([1, 2]);
  });
});
