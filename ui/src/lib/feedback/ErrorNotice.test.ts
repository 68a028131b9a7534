import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { AppError, ErrorAction, ErrorKind } from "../ipc";
import { navigationContext } from "../shell/navigation";
import type { PageId } from "../shell/pages";
import { fakeNavigation } from "../testing/fakes";
import ErrorNotice from "./ErrorNotice.svelte";
import { errorTable, noticeTitle } from "./errorTable";
import { mockIPC } from "@tauri-apps/api/mocks";

function error(kind: ErrorKind, overrides: Partial<AppError> = {}): AppError {
  return {
    kind,
    message: `What happened (${kind}).`,
    hint: `What to do about ${kind}.`,
    action: null,
    detail: `raw cause of ${kind}`,
    // CLI wording: never shown in the window.
    terminalHint: "Run `slipway release --yes` or `docker ps`.",
    ...overrides,
  };
}

/** What each kind shows by default: its title, and its button (null: none) and where it leads. */
const expected: Record<ErrorKind, { title: string; button: string | null; does: "retry" | "docker" | PageId | "pick" | null }> = {
  dockerUnavailable: { title: "Docker is not running", button: "Start Docker", does: "docker" },
  keyringUnavailable: { title: "The keyring is not available", button: null, does: null },
  registryAuth: { title: "The login was refused", button: "Re-enter token", does: "settings" },
  registryDenied: { title: "A permission is missing", button: "Open accounts", does: "settings" },
  network: { title: "A service could not be reached", button: "Try again", does: "retry" },
  rateLimited: { title: "A service asked us to slow down", button: "Try again", does: "retry" },
  notFound: { title: "It is not there", button: null, does: null },
  validation: { title: "A value cannot be used", button: null, does: null },
  precondition: { title: "Something is needed first", button: null, does: null },
  io: { title: "A file could not be read or written", button: "Try again", does: "retry" },
  cancelled: { title: "Cancelled", button: "Try again", does: "retry" },
  unknown: { title: "Something went wrong", button: "Try again", does: "retry" },
};

describe("an error notice", () => {
  it("covers every kind in the table", () => {
    expect(Object.keys(expected).sort()).toEqual(Object.keys(errorTable).sort());
  });

  for (const [kind, want] of Object.entries(expected) as Array<[ErrorKind, (typeof expected)[ErrorKind]]>) {
    it(`shows ${kind}: title, message, the hint once, ${want.button ?? "no button"}, the detail folded`, async () => {
      const user = userEvent.setup();
      const { navigation, went, picked } = fakeNavigation("history");
      const onretry = vi.fn();
      render(ErrorNotice, { props: { error: error(kind), onretry }, context: navigationContext(navigation) });
      const alert = screen.getByRole("alert");
      expect(within(alert).getByText(want.title)).toBeInTheDocument();
      expect(alert).toHaveTextContent(`What happened (${kind}).`);
      // The hint alone: no action label before it, never the terminal wording.
      expect(within(alert).getAllByText(`What to do about ${kind}.`)).toHaveLength(1);
      expect(within(alert).getByText(`What to do about ${kind}.`).textContent).toBe(`What to do about ${kind}.`);
      expect(alert.textContent).not.toMatch(/--yes|docker ps|slipway release|`/);

      const detail = within(alert).getByText(`raw cause of ${kind}`);
      expect(detail).not.toBeVisible();
      await user.click(within(alert).getByText("Technical details"));
      expect(detail).toBeVisible();

      const buttons = within(alert).queryAllByRole("button");
      if (want.button === null) {
        expect(buttons).toHaveLength(0);
        return;
      }
      expect(buttons.map((button) => button.textContent?.trim())).toEqual([want.button]);
      await user.click(buttons[0]!);
      if (want.does === "retry") expect(onretry).toHaveBeenCalledOnce();
      else if (want.does === "docker") expect(within(alert).getByTestId("docker-how-to")).toBeInTheDocument();
      else if (want.does === "pick") expect(picked).toHaveBeenCalledOnce();
      else expect(went).toEqual([want.does]);
    });
  }

  const actions: Array<[ErrorAction, string, PageId | "pick"]> = [
    ["openProjectSettings", "Open project settings", "project"],
    ["reviewPlan", "Review the plan", "release"],
    ["openAccounts", "Open accounts", "settings"],
    ["reenterToken", "Re-enter token", "settings"],
    ["openProject", "Choose a folder…", "pick"],
  ];
  for (const [action, label, destination] of actions) {
    it(`uses the error's own action over the kind's: ${action}`, async () => {
      const user = userEvent.setup();
      const { navigation, went, picked } = fakeNavigation("history");
      render(ErrorNotice, { props: { error: error("precondition", { action }) }, context: navigationContext(navigation) });
      await user.click(screen.getByRole("button", { name: label }));
      if (destination === "pick") expect(picked).toHaveBeenCalledOnce();
      else expect(went).toEqual([destination]);
    });
  }

  it("leaves out a button that cannot act: no retry handler, no navigation, or already on that page", () => {
    render(ErrorNotice, { props: { error: error("network") } });
    render(ErrorNotice, { props: { error: error("registryAuth") } });
    const { navigation } = fakeNavigation("settings");
    render(ErrorNotice, { props: { error: error("registryDenied") }, context: navigationContext(navigation) });
    expect(screen.getAllByRole("alert")).toHaveLength(3);
    expect(screen.queryAllByRole("button")).toHaveLength(0);
  });

  it("says the command that starts Docker on this system, with Copy, then offers to try again", async () => {
    const user = userEvent.setup();
    const onretry = vi.fn();
    mockIPC((cmd) => {
      if (cmd === "open_docker_desktop") {
        throw {
          kind: "dockerUnavailable",
          message: "Docker runs as a system service here; this command in a terminal starts it:",
          hint: "Once it runs, the badge at the top turns green by itself.",
          terminalHint: "sudo systemctl start docker",
        };
      }
      return null;
    });
    render(ErrorNotice, { props: { error: error("dockerUnavailable"), onretry } });
    await user.click(screen.getByRole("button", { name: "Start Docker" }));
    const how = await screen.findByTestId("docker-how-to");
    await waitFor(() => expect(how).toHaveTextContent("this command in a terminal starts it:"));
    expect(within(how).getByText("sudo systemctl start docker", { selector: "code" })).toBeInTheDocument();
    expect(within(how).getByRole("button", { name: "Copy" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(onretry).toHaveBeenCalledOnce();
  });

  it("says Docker Desktop is starting where it could be started", async () => {
    const user = userEvent.setup();
    mockIPC(() => null);
    render(ErrorNotice, { props: { error: error("dockerUnavailable"), onretry: vi.fn() } });
    await user.click(screen.getByRole("button", { name: "Start Docker" }));
    await waitFor(() => expect(screen.getByTestId("docker-how-to")).toHaveTextContent("Docker Desktop is starting"));
    expect(screen.queryByRole("button", { name: "Copy" })).not.toBeInTheDocument();
  });

  it("says Docker is not running once, not as title and message both", () => {
    render(ErrorNotice, { props: { error: error("dockerUnavailable", { message: "Docker is not running." }) } });
    expect(screen.getByRole("alert").textContent?.match(/Docker is not running/g)).toHaveLength(1);
  });

  it("shows no technical details when there are none, and dismisses", async () => {
    const user = userEvent.setup();
    const ondismiss = vi.fn();
    render(ErrorNotice, { props: { error: error("validation", { detail: null }), ondismiss } });
    expect(screen.queryByText("Technical details")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(ondismiss).toHaveBeenCalledOnce();
  });

});

describe("an error's title", () => {
  it("says what went wrong, from its kind and its fix, never 'That input does not work'", () => {
    expect(noticeTitle({ kind: "precondition", action: "pickRenderService" })).toBe("No Render service is picked");
    expect(noticeTitle({ kind: "precondition", action: "openAccounts" })).toBe("An account is not connected");
    expect(noticeTitle({ kind: "validation", action: "useServiceImage" })).toBe("The image is not the Render service's");
    expect(noticeTitle({ kind: "validation", action: "openProjectSettings" })).toBe("A project setting cannot be used");
    expect(noticeTitle({ kind: "validation", action: null })).toBe("A value cannot be used");
    expect(noticeTitle({ kind: "network", action: "retry" })).toBe("A service could not be reached");
    const titles = Object.values(errorTable).map((presentation) => presentation.title);
    expect(titles).not.toContain("That input does not work");
  });

  it("shows the specific title on the notice", () => {
    render(ErrorNotice, { props: { error: error("precondition", { action: "pickRenderService" }) } });
    expect(within(screen.getByRole("alert")).getByText("No Render service is picked")).toBeInTheDocument();
  });
});
