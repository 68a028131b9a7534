import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SlipwayError, type UpdateOffer } from "../ipc";
import UpdateBanner from "./UpdateBanner.svelte";
import { DAY_MS, FIRST_CHECK_MS, UpdateStore } from "./update.svelte";

const offer: UpdateOffer = { version: "0.2.0", currentVersion: "0.1.0", notes: "History filters by person.\nFaster logs." };

function fakeApi(answer: UpdateOffer | null = offer) {
  return {
    checkForUpdate: vi.fn(async () => answer),
    installUpdate: vi.fn(async () => null as null),
  };
}

afterEach(() => vi.useRealTimers());

describe("the update offer", () => {
  it("asks after start and then daily, and offers nothing when there is nothing newer", async () => {
    vi.useFakeTimers();
    const api = fakeApi(null);
    const update = new UpdateStore(api);
    const stop = update.follow();
    expect(api.checkForUpdate).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_MS);
    expect(api.checkForUpdate).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(DAY_MS);
    expect(api.checkForUpdate).toHaveBeenCalledTimes(2);
    stop();
    await vi.advanceTimersByTimeAsync(DAY_MS);
    expect(api.checkForUpdate).toHaveBeenCalledTimes(2);
    render(UpdateBanner, { update });
    expect(screen.queryByTestId("update-offer")).not.toBeInTheDocument();
  });

  it("says what is new, and installs only after asking", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    const update = new UpdateStore(api);
    await update.check();
    render(UpdateBanner, { update });
    expect(screen.getByTestId("update-offer")).toHaveTextContent("Slipway 0.2.0 is available · What's new · Update and restart");
    await user.click(screen.getByRole("button", { name: "What's new" }));
    expect(screen.getByTestId("update-notes")).toHaveTextContent("History filters by person. Faster logs.");

    await user.click(screen.getByRole("button", { name: "Update and restart" }));
    expect(api.installUpdate).not.toHaveBeenCalled();
    const dialog = screen.getByRole("alertdialog");
    expect(dialog).toHaveTextContent("Update Slipway from 0.1.0 to 0.2.0 and restart it?");
    expect(dialog).toHaveTextContent("Your system asks for your password to install it");
    await user.click(screen.getAllByRole("button", { name: "Update and restart" }).at(-1) as HTMLElement);
    // The version agreed to, not whatever is on offer by the time it installs.
    expect(api.installUpdate).toHaveBeenCalledWith("0.2.0");
  });

  it("says why updates are off when the settings cannot work, and keeps quiet when the address is unreachable", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    api.checkForUpdate.mockRejectedValueOnce(
      new SlipwayError({
        kind: "precondition",
        message: "This Slipway was built without an update key, so it cannot update itself.",
        hint: "Install the new version from its package.",
      }),
    );
    const update = new UpdateStore(api);
    await update.check();
    const { unmount } = render(UpdateBanner, { update });
    expect(screen.getByTestId("update-off")).toHaveTextContent("Updates are off");
    await user.click(screen.getByRole("button", { name: "Why" }));
    expect(screen.getByRole("alert")).toHaveTextContent("built without an update key");
    unmount();

    api.checkForUpdate.mockRejectedValueOnce(
      new SlipwayError({ kind: "network", message: "Slipway could not reach its update address.", hint: "" }),
    );
    const quiet = new UpdateStore(api);
    await quiet.check();
    render(UpdateBanner, { update: quiet });
    expect(screen.queryByTestId("update-off")).not.toBeInTheDocument();
  });

  it("waits while a job runs, and says plainly why an update was refused", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    api.installUpdate.mockRejectedValue(
      new SlipwayError({
        kind: "validation",
        message: "The update is not signed with Slipway's key, so it was not installed.",
        hint: "Nothing changed.",
      }),
    );
    const update = new UpdateStore(api);
    await update.check();
    const { rerender } = render(UpdateBanner, { update, busy: true });
    const button = screen.getByRole("button", { name: "Update and restart" });
    expect(button).toBeDisabled();
    expect(button).toHaveAttribute("title", expect.stringContaining("updates when nothing runs"));
    await rerender({ update, busy: false });
    await user.click(screen.getByRole("button", { name: "Update and restart" }));
    await user.click(screen.getAllByRole("button", { name: "Update and restart" }).at(-1) as HTMLElement);
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("not signed with Slipway's key"));
  });
});
