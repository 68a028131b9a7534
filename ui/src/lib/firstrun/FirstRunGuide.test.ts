import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { Account } from "../ipc";
import { ReleaseStore } from "../release/release.svelte";
import { AccountsStore } from "../settings/accounts.svelte";
import { navigationContext } from "../shell/navigation";
import { fakeLinks, fakeNavigation, shopProject } from "../testing/fakes";
import { plan, projectDetails, renderService, sentryAccount } from "../testing/fixtures";
import FirstRunGuide from "./FirstRunGuide.svelte";
import { FirstRunStore } from "./firstRun.svelte";

/** The guide on the shop project, at its Render service step, with `accounts` connected. */
async function atServiceStep(accounts: Account[]) {
  const details = projectDetails("/p/shop");
  const firstRun = new FirstRunStore(
    { recentProjects: async () => [], listAccounts: async () => accounts, detectProject: async () => details },
    { getItem: () => null, setItem: () => {} },
  );
  firstRun.active = true;
  await firstRun.checkFolder("/p/shop");
  firstRun.where = "render";
  firstRun.renderStep = "service";
  const { links, api } = await fakeLinks(details, {
    renderServices: async () => [renderService("shop-web")],
    listAccounts: async () => accounts,
    sentryAccountProjects: async () => [{ id: "1", slug: "shop", name: "Shop" }],
  });
  const releaseApi = {
    planRelease: vi.fn(async (path: string) => plan({ projectPath: path })),
    startRelease: vi.fn(),
    cancelRelease: vi.fn(),
    listReleases: vi.fn(async () => []),
    giveProjectValues: vi.fn(async (path: string) => projectDetails(path).settings),
  };
  const unused = async (): Promise<never> => {
    throw new Error("unused");
  };
  const accountsStore = new AccountsStore({
    listAccounts: async () => accounts,
    connectRegistry: unused,
    connectRender: unused,
    connectRenderHook: unused,
    connectSentry: unused,
    sentryProjects: unused,
    connectCircleci: unused,
    removeAccount: async () => null,
    checkAllAccounts: async () => [],
  });
  render(FirstRunGuide, {
    props: { firstRun, project: shopProject(), release: new ReleaseStore(releaseApi, null), accounts: accountsStore, links },
    context: navigationContext(fakeNavigation().navigation),
  });
  return { firstRun, api, releaseApi };
}

describe("the first-run guide on Render", () => {
  it("lets the person pick this project's Render service: its production environment, the default", async () => {
    const user = userEvent.setup();
    const { api, firstRun } = await atServiceStep([]);
    expect(screen.getByRole("heading", { name: "Which Render service is shop?" })).toBeInTheDocument();
    await user.selectOptions(await screen.findByLabelText("Render service"), "srv-shop-web");
    expect(screen.getByTestId("service-picked")).toHaveTextContent("Deploys go to shop-web");
    await user.click(screen.getByRole("button", { name: "Deploy shop there" }));
    expect(api.addEnvironment).toHaveBeenCalledWith("/p/shop", "production", { renderService: "srv-shop-web", makeDefault: true });
    await waitFor(() => expect(firstRun.renderStep).toBe("sentry"));
    expect(screen.getByRole("heading", { name: "Connect Sentry (optional)" })).toBeInTheDocument();
  });

  it("then links the project's Sentry project when Sentry is connected, and finishes on the project's default", async () => {
    const user = userEvent.setup();
    const { api, firstRun, releaseApi } = await atServiceStep([sentryAccount()]);
    await user.click(screen.getByRole("button", { name: "Skip" }));
    const link = await screen.findByRole("region", { name: "Sentry project" });
    await user.selectOptions(await within(link).findByLabelText("Sentry project"), "shop");
    await user.click(within(link).getByRole("button", { name: "Link" }));
    expect(api.linkSentryProject).toHaveBeenCalledWith("/p/shop", "acme/web", "acme", "shop");
    expect(await screen.findByTestId("first-run-sentry-link")).toHaveTextContent("shop reports to acme/shop");
    await user.click(screen.getByRole("button", { name: "Finish" }));
    expect(firstRun.active).toBe(false);
    expect(releaseApi.planRelease).toHaveBeenLastCalledWith("/p/shop", null, false);
  });
});

describe("the first-run guide's question", () => {
  async function atWhere(details: ReturnType<typeof projectDetails>) {
    const firstRun = new FirstRunStore(
      { recentProjects: async () => [], listAccounts: async () => [], detectProject: async () => details },
      { getItem: () => null, setItem: () => {} },
    );
    firstRun.active = true;
    await firstRun.checkFolder("/p/shop");
    const unused = async (): Promise<never> => {
      throw new Error("unused");
    };
    const accounts = new AccountsStore({
      listAccounts: async () => [],
      connectRegistry: unused,
      connectRender: unused,
      connectRenderHook: unused,
      connectSentry: unused,
      sentryProjects: unused,
      connectCircleci: unused,
      removeAccount: async () => null,
      checkAllAccounts: async () => [],
    });
    render(FirstRunGuide, {
      props: { firstRun, project: shopProject(), release: new ReleaseStore(undefined, null), accounts },
      context: navigationContext(fakeNavigation().navigation),
    });
    return screen.getByRole("button", { name: /On this computer/ });
  }

  it("says this computer needs nothing more only when the project has its Dockerfile", async () => {
    const local = await atWhere(projectDetails("/p/shop"));
    expect(local).toHaveTextContent("It needs nothing more: choose it, then press Release.");
  });

  it("says the Dockerfile comes first when the project has none", async () => {
    const details = projectDetails("/p/shop");
    details.detection.dockerfiles = [];
    details.settings.dockerfile = null;
    const local = await atWhere(details);
    expect(local).toHaveTextContent("It needs the Dockerfile first, as said above.");
    expect(local).not.toHaveTextContent("nothing more");
  });
});
