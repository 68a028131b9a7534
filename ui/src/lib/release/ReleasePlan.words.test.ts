import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { plan } from "../testing/fixtures";
import ReleasePlan from "./ReleasePlan.svelte";
import { ReleaseStore } from "./release.svelte";

// The plan's own sentences: proper plurals, never "(s)".
describe("the plan's uncommitted changes", () => {
  const store = () => new ReleaseStore(undefined, null);

  it("says one change in the singular", () => {
    render(ReleasePlan, { props: { plan: plan({ dirtyFiles: ["app.py"] }), release: store() } });
    const box = screen.getByRole("checkbox").closest("label");
    expect(box?.textContent?.replace(/\s+/g, " ").trim()).toBe(
      "Release with 1 uncommitted change (app.py); the history will say so.",
    );
  });

  it("says several in the plural, the first three named", () => {
    render(ReleasePlan, { props: { plan: plan({ dirtyFiles: ["a.py", "b.py", "c.py", "d.py"] }), release: store() } });
    const text = screen.getByRole("checkbox").closest("label")?.textContent?.replace(/\s+/g, " ").trim();
    expect(text).toBe("Release with 4 uncommitted changes (a.py, b.py, c.py, …); the history will say so.");
    expect(text).not.toContain("(s)");
  });
});
