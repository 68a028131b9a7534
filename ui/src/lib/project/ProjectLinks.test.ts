import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { SlipwayError } from "../ipc";
import { navigationContext } from "../shell/navigation";
import { fakeLinks, fakeNavigation } from "../testing/fakes";
import { projectDetails, renderEnvironment, renderService, sentryAccount } from "../testing/fixtures";
import ProjectSettingsForm from "../checks/ProjectSettingsForm.svelte";
import EnvironmentsSection from "./EnvironmentsSection.svelte";
import { chain, defaultEnvironment, nextAfter } from "./environments";
import SentryLinkSection from "./SentryLinkSection.svelte";

function shown(component: typeof EnvironmentsSection | typeof SentryLinkSection, links: Awaited<ReturnType<typeof fakeLinks>>["links"]) {
  const { navigation, went, sections } = fakeNavigation("project");
  render(component, { props: { links }, context: navigationContext(navigation) });
  return { went, sections };
}

describe("a project's chain of environments", () => {
  it("starts on this computer, follows the list, and defaults to the first Render one", () => {
    const environments = {
      list: [renderEnvironment("staging", "web-staging"), { name: "local", target: "local" as const, healthPath: "/up" }, renderEnvironment("production", "web")],
    };
    expect(chain(environments).map((environment) => environment.name)).toEqual(["local", "staging", "production"]);
    expect(chain(environments)[0]?.healthPath).toBe("/up");
    expect(defaultEnvironment(environments).name).toBe("staging");
    expect(defaultEnvironment({ ...environments, default: "production" }).name).toBe("production");
    expect(defaultEnvironment({ list: [] }).name).toBe("local");
    expect(nextAfter(environments, "local")?.name).toBe("staging");
    expect(nextAfter(environments, "production")).toBeNull();
  });
});

describe("Project settings → Where it runs", () => {
  it("lists this computer first, then adds a Render environment with the service picked", async () => {
    const user = userEvent.setup();
    const { links, checks, api } = await fakeLinks(projectDetails("/p/lettings"), {
      renderServices: async () => [renderService("lettings-web"), renderService("lettings-worker", { image: null })],
    });
    shown(EnvironmentsSection, links);
    const list = screen.getByRole("list", { name: "Environments" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    expect(within(list).getByTestId("environment-local")).toHaveTextContent("This computer");
    expect(within(list).getByTestId("default-environment")).toHaveTextContent("Release goes here");

    await user.click(screen.getByRole("button", { name: "Add a Render environment…" }));
    const form = screen.getByRole("form", { name: "Add an environment" });
    expect(within(form).getByLabelText("Name")).toHaveValue("production");
    await user.selectOptions(await within(form).findByLabelText("Render service"), "srv-lettings-web");
    expect(within(form).getByTestId("service-picked")).toHaveTextContent("Deploys go to lettings-web");
    await user.click(within(form).getByRole("button", { name: "Add environment" }));

    expect(api.addEnvironment).toHaveBeenCalledWith("/p/lettings", "production", { renderService: "srv-lettings-web", makeDefault: true });
    // The saved settings come back into the project's settings, the draft included.
    await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(2));
    expect(checks.draft?.environments.list.map((environment) => environment.name)).toEqual(["production"]);
    expect(within(list).getByTestId("environment-production")).toHaveTextContent("Deploys to lettings-web on Render");
    expect(within(within(list).getByTestId("environment-production")).getByTestId("default-environment")).toBeInTheDocument();
  });

  it("refuses a name the backend would not take, before asking it", async () => {
    const user = userEvent.setup();
    const details = projectDetails("/p/lettings");
    details.settings.environments = { list: [renderEnvironment("production", "lettings-web")] };
    const { links, api } = await fakeLinks(details, { renderServices: async () => [renderService("lettings-web"), renderService("lettings-staging")] });
    shown(EnvironmentsSection, links);
    await user.click(screen.getByRole("button", { name: "Add a Render environment…" }));
    const form = screen.getByRole("form", { name: "Add an environment" });
    await user.type(within(form).getByLabelText("Name"), "my staging");
    expect(form).toHaveTextContent("Use letters, digits, - or _ only");
    // One service never serves two environments of a project.
    const service = (await within(form).findByLabelText("Render service")) as HTMLSelectElement;
    const taken = within(service).getByRole("option", { name: /lettings-web/ }) as HTMLOptionElement;
    expect(taken.disabled).toBe(true);
    await user.selectOptions(service, "srv-lettings-staging");
    expect(within(form).getByRole("button", { name: "Add environment" })).toBeDisabled();
    expect(api.addEnvironment).not.toHaveBeenCalled();
  });

  it("makes another environment the default, changes its own settings, and removes it", async () => {
    const user = userEvent.setup();
    const details = projectDetails("/p/lettings");
    details.settings.environments = { list: [renderEnvironment("staging", "lettings-staging"), renderEnvironment("production", "lettings-web")] };
    const { links, api } = await fakeLinks(details);
    shown(EnvironmentsSection, links);
    const staging = screen.getByTestId("environment-staging");
    expect(staging).toHaveTextContent("Release goes here");
    const production = screen.getByTestId("environment-production");
    await user.click(within(production).getByRole("button", { name: "Make default" }));
    expect(api.changeEnvironment).toHaveBeenLastCalledWith("/p/lettings", "production", { makeDefault: true });

    await user.click(within(production).getByRole("button", { name: /Change its image/ }));
    const image = within(production).getByLabelText("Image repository");
    expect(image).toHaveAttribute("placeholder", "docker.io/acme/lettings-web");
    await user.type(within(production).getByLabelText("Health path"), "/healthz");
    await user.click(within(production).getByRole("button", { name: "Save production" }));
    expect(api.changeEnvironment).toHaveBeenLastCalledWith("/p/lettings", "production", {
      imageRepository: "",
      healthPath: "/healthz",
      sentryEnvironment: "",
      makeDefault: false,
    });

    // Production is rehearsed by default, staging is not; a changed choice is saved as such.
    expect(production).toHaveTextContent("rehearsed on this computer first");
    expect(staging).not.toHaveTextContent("rehearsed on this computer first");
    await user.click(within(production).getByRole("button", { name: /Change its image/ }));
    const rehearse = within(production).getByRole("checkbox", { name: "Rehearse on this computer before pushing" });
    expect(rehearse).toBeChecked();
    await user.click(rehearse);
    await user.click(within(production).getByRole("button", { name: "Save production" }));
    expect(api.changeEnvironment).toHaveBeenLastCalledWith(
      "/p/lettings",
      "production",
      expect.objectContaining({ rehearse: false }),
    );

    // Rolling back by itself: off until asked, then on with Sentry's numbers.
    await user.click(within(production).getByRole("button", { name: /Change its image/ }));
    await user.click(within(production).getByRole("checkbox", { name: "Roll back automatically if a release fails its live check" }));
    const issues = within(production).getByLabelText("or if Sentry reports");
    await user.clear(issues);
    await user.type(issues, "5");
    const minutes = within(production).getByLabelText("new issues in its first");
    await user.clear(minutes);
    await user.type(minutes, "3");
    await user.click(within(production).getByRole("button", { name: "Save production" }));
    expect(api.changeEnvironment).toHaveBeenLastCalledWith(
      "/p/lettings",
      "production",
      expect.objectContaining({ autoRollback: { on: true, newIssues: 5, minutes: 3 } }),
    );

    await user.click(within(staging).getByRole("button", { name: "Remove staging" }));
    expect(api.removeEnvironment).toHaveBeenCalledWith("/p/lettings", "staging");
    await waitFor(() => expect(screen.queryByTestId("environment-staging")).toBeNull());
  });

  it("says when Render is not connected, with the way to Settings → Accounts", async () => {
    const user = userEvent.setup();
    const { links } = await fakeLinks(projectDetails("/p/lettings"), {
      renderServices: async () => {
        throw new SlipwayError({
          kind: "precondition",
          message: "Render is not connected with an API key.",
          hint: "Connect Render in Settings → Accounts.",
          action: "openAccounts",
        });
      },
    });
    const { went, sections } = shown(EnvironmentsSection, links);
    await user.click(screen.getByRole("button", { name: "Add a Render environment…" }));
    expect(await screen.findByTestId("render-not-connected")).toHaveTextContent("Render is not connected");
    await user.click(screen.getByRole("button", { name: "Open Settings → Accounts" }));
    expect(went).toEqual(["settings"]);
    expect(sections).toEqual(["accounts"]);
  });
});

describe("Project settings → Errors", () => {
  it("links the project to a Sentry project of a connected account, then names it and unlinks it", async () => {
    const user = userEvent.setup();
    const { links, api } = await fakeLinks(projectDetails("/p/lettings"), {
      listAccounts: async () => [sentryAccount(), sentryAccount({ account: "other/x", sentryOrganization: "other" })],
      sentryAccountProjects: async (account: string) =>
        account === "acme/web" ? [{ id: "1", slug: "lettings", name: "Lettings" }, { id: "2", slug: "web", name: "Web" }] : [],
    });
    shown(SentryLinkSection, links);
    expect(screen.getByText(/Not linked to a Sentry project/)).toBeInTheDocument();
    await user.selectOptions(await screen.findByLabelText("Sentry account"), "acme/web");
    await user.selectOptions(await screen.findByLabelText("Sentry project"), "lettings");
    await user.click(screen.getByRole("button", { name: "Link" }));
    expect(api.linkSentryProject).toHaveBeenCalledWith("/p/lettings", "acme/web", "acme", "lettings");
    expect(await screen.findByTestId("sentry-link")).toHaveTextContent("Reports to acme/lettings");

    await user.click(screen.getByRole("button", { name: "Unlink" }));
    expect(api.unlinkSentryProject).toHaveBeenCalledWith("/p/lettings");
    await waitFor(() => expect(screen.queryByTestId("sentry-link")).toBeNull());
  });

  it("asks to connect Sentry first when no Sentry account is connected", async () => {
    const user = userEvent.setup();
    const { links } = await fakeLinks(projectDetails("/p/lettings"));
    const { went, sections } = shown(SentryLinkSection, links);
    await user.click(await screen.findByRole("button", { name: "Connect Sentry first" }));
    expect(went).toEqual(["settings"]);
    expect(sections).toEqual(["accounts"]);
  });
});

describe("Project settings → Image name", () => {
  it("saves the image repository, health path, container port and health timeout", async () => {
    const user = userEvent.setup();
    const { checks } = await fakeLinks(projectDetails("/p/lettings"));
    render(ProjectSettingsForm, { store: checks });
    const repository = screen.getByLabelText("Image repository");
    expect(repository).toHaveAttribute("placeholder", "lettings");
    await user.type(repository, "ghcr.io/acme/lettings");
    await user.type(screen.getByLabelText("Health path"), "/up");
    await user.type(screen.getByLabelText("Container port"), "8080");
    await user.type(screen.getByLabelText("Health timeout (seconds)"), "90");
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(checks.saved).toBe(true));
    expect(checks.details?.settings).toMatchObject({
      imageRepository: "ghcr.io/acme/lettings",
      healthPath: "/up",
      containerPort: 8080,
      healthTimeoutSecs: 90,
    });
    expect(document.body.textContent).not.toMatch(/settings\.json|SLIPWAY_/);
  });
});
