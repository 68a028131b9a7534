import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { navigationContext } from "../shell/navigation";
import { fakeNavigation, openedInBrowser } from "../testing/fakes";
import { releaseRecord } from "../testing/fixtures";
import HistoryDetail from "./HistoryDetail.svelte";
import { HistoryStore } from "./history.svelte";

const digest = "sha256:4f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a";

const released = releaseRecord({
  id: "01JDXQ4Z9Y8X7W6V5U4T3S2R1Q",
  projectPath: "/p/shop",
  projectName: "shop",
  endedAt: "2026-11-24T10:01:12Z",
  commit: "3f2a1bc",
  image: "shop:3f2a1bc",
  digest,
  url: "http://127.0.0.1:8123/",
});

describe("a release's detail", () => {
  it("opens its address in the browser and shows its digest on one line, whole in the tooltip", async () => {
    const user = userEvent.setup();
    const opened = openedInBrowser();
    const history = new HistoryStore();
    history.opened.id = released.id;
    history.opened.detail = { release: released, results: [] };
    render(HistoryDetail, { history });

    await user.click(screen.getByTestId("history-url"));
    expect(opened).toEqual(["http://127.0.0.1:8123/"]);
    const shown = screen.getByTestId("history-digest");
    expect(shown).toHaveTextContent(digest);
    expect(shown).toHaveAttribute("title", digest);
    expect(shown).toHaveClass("hash");
  });

  it("names a failure's kind in words, never its code", () => {
    const history = new HistoryStore();
    history.opened.id = released.id;
    const error = {
      kind: "registryAuth" as const,
      message: "The registry refused the login.",
      hint: "Re-enter the token.",
      action: null,
      detail: null,
      terminalHint: null,
    };
    history.opened.detail = {
      release: { ...released, outcome: "failed", url: null, message: error.message, error },
      results: [],
    };
    render(HistoryDetail, { history });
    const failure = screen.getByTestId("history-failure");
    expect(failure).toHaveTextContent("The login was refused");
    expect(failure).not.toHaveTextContent("registryAuth");
  });

  it("offers the button the release offered, and its detail", async () => {
    const user = userEvent.setup();
    const { navigation, went } = fakeNavigation("history");
    const history = new HistoryStore();
    history.opened.id = released.id;
    const error = {
      kind: "precondition" as const,
      message: "Render's service lettings-web runs another image.",
      hint: "Push to the service's own image.",
      action: "openProjectSettings" as const,
      detail: "imageUrl docker.io/acme/other",
      terminalHint: null,
    };
    history.opened.detail = {
      release: { ...released, outcome: "error", url: null, message: error.message, error },
      results: [],
    };
    render(HistoryDetail, { props: { history }, context: navigationContext(navigation) });
    const failure = screen.getByTestId("history-failure");
    expect(failure).toHaveTextContent("Push to the service's own image.");
    expect(failure).toHaveTextContent("imageUrl docker.io/acme/other");
    await user.click(screen.getByRole("button", { name: "Open project settings" }));
    expect(went).toEqual(["project"]);
  });
});
