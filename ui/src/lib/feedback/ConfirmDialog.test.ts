import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { tick } from "svelte";
import { describe, expect, it, vi } from "vitest";
import ConfirmDialog from "./ConfirmDialog.svelte";

function show() {
  const asker = document.createElement("button");
  asker.textContent = "Roll back to this";
  document.body.append(asker);
  asker.focus();
  const onconfirm = vi.fn();
  const oncancel = vi.fn();
  const view = render(ConfirmDialog, {
    title: "Roll back?",
    question: "Roll back production from a1b2c3d (today 14:02) to 9f8e7d6 (yesterday 17:40)?",
    confirmLabel: "Roll back",
    onconfirm,
    oncancel,
  });
  return { asker, onconfirm, oncancel, view };
}

describe("the confirm dialog", () => {
  it("is a modal named by its title, says the question, and starts on Cancel", async () => {
    const { onconfirm } = show();
    const dialog = screen.getByRole("alertdialog", { name: "Roll back?" });
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(dialog).toHaveAccessibleDescription(
      "Roll back production from a1b2c3d (today 14:02) to 9f8e7d6 (yesterday 17:40)?",
    );
    await tick();
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
    // Enter on the first focus cancels: a yes takes a deliberate move.
    await userEvent.setup().keyboard("{Enter}");
    expect(onconfirm).not.toHaveBeenCalled();
  });

  it("keeps Tab inside, cancels on Escape, and gives the focus back when it closes", async () => {
    const user = userEvent.setup();
    const { asker, oncancel, onconfirm, view } = show();
    await tick();
    await user.tab();
    expect(screen.getByRole("button", { name: "Roll back" })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.tab({ shift: true });
    expect(screen.getByRole("button", { name: "Roll back" })).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(onconfirm).toHaveBeenCalledTimes(1);
    await user.keyboard("{Escape}");
    expect(oncancel).toHaveBeenCalledTimes(1);
    view.unmount();
    expect(asker).toHaveFocus();
    asker.remove();
  });
});
