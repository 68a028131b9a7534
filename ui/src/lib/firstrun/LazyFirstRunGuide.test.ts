import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { expect, it, vi } from "vitest";
import type FirstRunGuide from "./FirstRunGuide.svelte";
import LazyFirstRunGuide from "./LazyFirstRunGuide.svelte";

// The guide's code fails to load once (a file gone from the bundle, say), then loads.
const loads = vi.hoisted(() => ({ count: 0 }));
vi.mock("./FirstRunGuide.svelte", async () => {
  loads.count += 1;
  if (loads.count === 1) throw new Error("the chunk could not be fetched");
  return await import("../testing/Stand.svelte");
});

it("says when the guide's code could not be loaded, and loads it on Try again", async () => {
  const user = userEvent.setup();
  const props = {} as Parameters<typeof FirstRunGuide>[1];
  render(LazyFirstRunGuide, props);
  expect(await screen.findByRole("alert")).toHaveTextContent("The first-run guide could not be loaded.");
  await user.click(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByText("stand-in")).toBeInTheDocument();
  expect(screen.queryByRole("alert")).not.toBeInTheDocument();
});
