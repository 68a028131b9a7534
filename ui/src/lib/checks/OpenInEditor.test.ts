import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SlipwayError } from "../ipc";
import OpenInEditor from "./OpenInEditor.svelte";

describe("Open in editor", () => {
  it("asks for the project's file at its line and says what was opened", async () => {
    const user = userEvent.setup();
    const openInEditor = vi.fn(async () => ({ sentence: "Opened app.py: go to line 2." }));
    render(OpenInEditor, { project: "/p/flask-shop", path: "app.py", line: 2, api: { openInEditor } });
    await user.click(screen.getByRole("button", { name: "Open in editor" }));
    expect(openInEditor).toHaveBeenCalledWith("/p/flask-shop", "app.py", 2);
    expect(await screen.findByRole("status")).toHaveTextContent("Opened app.py: go to line 2.");
  });

  it("shows why it could not, with the way to fix it", async () => {
    const user = userEvent.setup();
    const openInEditor = vi.fn(async () => {
      throw new SlipwayError({
        kind: "precondition",
        message: "Slipway could not start code to open the file.",
        hint: "Check that it is installed, or set the editor Slipway uses in Settings → This computer.",
        action: "openAppSettings",
      });
    });
    render(OpenInEditor, { project: "/p/flask-shop", path: "app.py", line: 2, api: { openInEditor } });
    await user.click(screen.getByRole("button", { name: "Open in editor" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Slipway could not start code to open the file.");
  });
});
