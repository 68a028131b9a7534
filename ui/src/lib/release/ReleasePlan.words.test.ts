import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { fakeLinks } from "../testing/fakes";
import { plan, projectDetails } from "../testing/fixtures";
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

describe("the plan's environments", () => {
  it("name a Render service by its name, never by Render's id", async () => {
    const details = projectDetails("/p/lettings");
    details.settings.environments = {
      list: [
        { name: "production", target: "render", renderService: { id: "srv-acc0000" } },
        { name: "staging", target: "render", renderService: { id: "srv-b", name: "lettings-staging" } },
      ],
    };
    const { links } = await fakeLinks(details);
    render(ReleasePlan, {
      props: { plan: plan({ projectPath: "/p/lettings" }), release: new ReleaseStore(undefined, null), links },
    });
    const options = Array.from(screen.getByLabelText("Environment").querySelectorAll("option")).map((option) => option.textContent);
    expect(options).toEqual(["This computer", "production", "staging · lettings-staging"]);
    expect(document.body.textContent).not.toContain("srv-");
  });
});
