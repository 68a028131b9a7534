import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SlipwayError, type DockerEvent, type ImagesOverview, type SystemStatus } from "../ipc";
import { navigationContext } from "../shell/navigation";
import { SystemStore } from "../system/system.svelte";
import { fakeNavigation, shopProject } from "../testing/fakes";
import { appError, dockerDown } from "../testing/fixtures";
import ImagesPage from "./ImagesPage.svelte";
import { formatBytes, ImagesStore, sameImage, unaskedRegistryReason } from "./images.svelte";

const overview: ImagesOverview = {
  repository: "127.0.0.1:5000/shop",
  destination: {
    target: "local",
    name: "127.0.0.1:5000/shop",
    registry: "127.0.0.1:5000",
    canListTags: true,
    setting: "127.0.0.1:5000/shop",
  },
  local: [
    {
      id: "sha256:0123456789abcdef0123",
      tags: ["127.0.0.1:5000/shop:latest", "127.0.0.1:5000/shop:3f2a1bc"],
      sizeBytes: 2_500_000,
      created: "2026-11-24T10:00:00Z",
      containers: 0,
    },
  ],
  remote: ["3f2a1bc"],
  remoteError: null,
  liveImageId: null,
};

function fakeApi(answer: ImagesOverview = overview) {
  const calls: string[] = [];
  let finishPush: () => void = () => {};
  const api = {
    imagesOverview: async () => {
      calls.push("overview");
      return answer;
    },
    buildProjectImage: async (_path: string, onEvent: (event: DockerEvent) => void) => {
      onEvent({ event: "step", data: { number: 2, total: 3, instruction: "COPY . /app" } });
      calls.push("build");
      return { imageId: "sha256:1", references: [] };
    },
    pushImage: (reference: string, onEvent: (event: DockerEvent) => void) => {
      calls.push(`push ${reference}`);
      onEvent({ event: "layer", data: { id: "a1", status: "Pushing", current: 50, total: 100 } });
      onEvent({ event: "pushProgress", data: { done: 50, total: 100, percent: 50 } });
      return new Promise<{ reference: string; digest: string; verified: boolean }>((resolve) => {
        finishPush = () => resolve({ reference, digest: "sha256:feed", verified: true });
      });
    },
    // The project's path goes with each: its engine holds the image (its own Docker context).
    retagImage: async (source: string, target: string, path: string) => {
      calls.push(`retag ${source} ${target} on ${path}`);
      return null;
    },
    removeImage: async (reference: string, path: string) => {
      calls.push(`remove ${reference} on ${path}`);
      if (reference.endsWith(":latest")) {
        throw new SlipwayError({ kind: "precondition", message: "The image is used by a container: web", hint: "Stop and remove the container that uses it." });
      }
      return null;
    },
  };
  return { api, calls, finishPush: () => finishPush() };
}

describe("the images page", () => {
  it("lists each local tag with size, and the registry's tags", async () => {
    const { api } = fakeApi();
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(api) });
    const table = await screen.findByRole("table", { name: "Local images" });
    expect(within(table).getByText("127.0.0.1:5000/shop:3f2a1bc")).toBeInTheDocument();
    expect(within(table).getAllByText("2.4 MB")).toHaveLength(2);
    expect(screen.getByRole("list", { name: "Registry tags" })).toHaveTextContent("3f2a1bc");
  });

  it("pushes with a progress bar that ends at 100% and shows the digest", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(fake.api) });
    await user.click(await screen.findByRole("button", { name: "Push 127.0.0.1:5000/shop:latest" }));
    const bar = await screen.findByRole("progressbar", { name: "Push progress for 127.0.0.1:5000/shop:latest" });
    expect(bar).toHaveAttribute("value", "50");
    fake.finishPush();
    expect(await screen.findByText("sha256:feed")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Push progress for 127.0.0.1:5000/shop:latest" })).toHaveAttribute("value", "100");
  });

  it("asks before removing, and shows why a removal was refused", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(fake.api) });
    await user.click(await screen.findByRole("button", { name: "Remove 127.0.0.1:5000/shop:latest" }));
    const dialog = screen.getByRole("alertdialog", { name: "Confirm removal" });
    expect(fake.calls.filter((call) => call.startsWith("remove"))).toEqual([]);
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("used by a container");
    expect(fake.calls).toContain("remove 127.0.0.1:5000/shop:latest on /p/shop");
  });

  it("retags through a form", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(fake.api) });
    await user.click(await screen.findByRole("button", { name: "Retag 127.0.0.1:5000/shop:3f2a1bc" }));
    const input = screen.getByLabelText("New name");
    await user.clear(input);
    await user.type(input, "127.0.0.1:5000/shop:stable");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(fake.calls).toContain("retag 127.0.0.1:5000/shop:3f2a1bc 127.0.0.1:5000/shop:stable on /p/shop");
  });

  it("says where the image goes: target, registry, the name and who chose it", async () => {
    const { api } = fakeApi();
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(api) });
    const section = await screen.findByRole("region", { name: "Where your image goes" });
    expect(await within(section).findByTestId("image-repository")).toHaveTextContent("127.0.0.1:5000/shop");
    expect(section).toHaveTextContent("Released to This machine");
    expect(section).toHaveTextContent("Registry 127.0.0.1:5000");
    expect(section).toHaveTextContent("You, in the project's settings");
  });

  it("says a name Slipway chose, and an image that is never pushed, in words", async () => {
    const local: ImagesOverview = {
      ...overview,
      repository: "shop",
      destination: { target: "local", name: "shop", registry: null, canListTags: false, setting: null },
      remote: null,
    };
    const { api } = fakeApi(local);
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(api) });
    const section = await screen.findByRole("region", { name: "Where your image goes" });
    expect(await within(section).findByTestId("image-repository")).toHaveTextContent("shop");
    expect(section).toHaveTextContent("stays on this machine (not pushed)");
    expect(section).toHaveTextContent("Slipway, from the project");
    expect(screen.getByTestId("registry-not-asked")).toHaveTextContent(
      "Not pushed anywhere: releases to this machine keep the image here.",
    );
    expect(screen.queryByText(/has no tag/)).not.toBeInTheDocument();
  });

  it("asks to connect a registry it may not ask, rather than claiming it is empty", async () => {
    const hub: ImagesOverview = {
      ...overview,
      repository: "registry.example.test/ann/shop",
      destination: { target: "render", name: "registry.example.test/ann/shop", registry: "Docker Hub", canListTags: false, setting: null },
      remote: null,
    };
    const { api } = fakeApi(hub);
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(api) });
    expect(await screen.findByTestId("registry-not-asked")).toHaveTextContent("Connect Docker Hub in Settings to see its tags.");
    expect(screen.getByRole("region", { name: "Where your image goes" })).toHaveTextContent("Released to Render");
    expect(screen.queryByRole("list", { name: "Registry tags" })).not.toBeInTheDocument();
  });

  it("says the registry has no tag only when it was asked", async () => {
    const { api } = fakeApi({ ...overview, remote: [] });
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(api) });
    expect(await screen.findByText("127.0.0.1:5000 has no tag of this name yet.")).toBeInTheDocument();
  });

  it("shows why the registry could not be asked, and asks again", async () => {
    const user = userEvent.setup();
    const remoteError = appError({ kind: "network", message: "The registry did not answer.", hint: "Check your connection." });
    const fake = fakeApi({ ...overview, remote: null, remoteError });
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(fake.api) });
    expect(await screen.findByRole("alert")).toHaveTextContent("The registry did not answer.");
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(fake.calls.filter((call) => call === "overview")).toHaveLength(2);
  });

  it("marks the image the project's container runs, once", async () => {
    const live: ImagesOverview = {
      ...overview,
      local: [
        ...overview.local,
        { id: "sha256:older", tags: ["127.0.0.1:5000/shop:0ld0ld0"], sizeBytes: 1000, created: "2026-11-20T10:00:00Z", containers: 0 },
      ],
      liveImageId: "sha256:0123456789abcdef0123",
    };
    const { api } = fakeApi(live);
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(api) });
    const table = await screen.findByRole("table", { name: "Local images" });
    const badges = within(table).getAllByText("Running now");
    expect(badges).toHaveLength(1);
    expect(badges[0]?.closest("tr")).toHaveTextContent("127.0.0.1:5000/shop:latest");
  });

  it("marks the running image by its id, whether the engine gives it with sha256: or short", () => {
    expect(sameImage("sha256:0123456789abcdef0123", "sha256:0123456789abcdef0123")).toBe(true);
    expect(sameImage("sha256:0123456789abcdef0123", "0123456789ab")).toBe(true);
    expect(sameImage("sha256:0123456789abcdef0123", "sha256:fedcba9876543210")).toBe(false);
    // A tag is not an id: it never marks anything.
    expect(sameImage("sha256:0123456789abcdef0123", "127.0.0.1:5000/shop:latest")).toBe(false);
    expect(sameImage("sha256:0123456789abcdef0123", null)).toBe(false);
  });

  it("leads to the project's settings to change where the image goes", async () => {
    const user = userEvent.setup();
    const { navigation, went } = fakeNavigation("images");
    const { api } = fakeApi();
    render(ImagesPage, { props: { project: shopProject(), images: new ImagesStore(api) }, context: navigationContext(navigation) });
    await user.click(await screen.findByRole("button", { name: "Change where it goes" }));
    expect(went).toEqual(["project"]);
  });

  it("leaves the settings link out where there is no navigation", async () => {
    const { api } = fakeApi();
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(api) });
    await screen.findByTestId("image-repository");
    expect(screen.queryByRole("button", { name: "Change where it goes" })).not.toBeInTheDocument();
  });

  it("shows no other project's images while a new one loads", async () => {
    let answer: (value: ImagesOverview) => void = () => {};
    const images = new ImagesStore({
      ...fakeApi().api,
      imagesOverview: (path: string) =>
        path === "/p/shop" ? Promise.resolve(overview) : new Promise<ImagesOverview>((resolve) => (answer = resolve)),
    });
    await images.load("/p/shop");
    expect(images.overview?.repository).toBe("127.0.0.1:5000/shop");
    const loading = images.load("/p/other");
    expect(images.overview).toBeNull();
    answer({ ...overview, repository: "other" });
    await loading;
    expect(images.overview?.repository).toBe("other");
  });

  it("explains every unasked registry without guessing", () => {
    const base = { ...overview, remote: null, remoteError: null };
    expect(unaskedRegistryReason(overview)).toBeNull();
    expect(unaskedRegistryReason({ ...base, destination: { ...base.destination, registry: null } })).toMatch(/^Not pushed anywhere/);
    expect(unaskedRegistryReason({ ...base, destination: { ...base.destination, canListTags: false } })).toBe(
      "Connect 127.0.0.1:5000 in Settings to see its tags.",
    );
  });

  it("formats sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(3 * 1024 * 1024 * 1024)).toBe("3.00 GB");
  });
});

describe("building without Docker", () => {
  it("holds Build image while Docker is known to be down, says why beside it, and lets it go once Docker runs", async () => {
    const user = userEvent.setup();
    let docker: SystemStatus["docker"] = dockerDown;
    const system = new SystemStore({ systemStatus: async () => ({ docker, dockerVersion: null, keyring: null }) });
    await system.refresh();
    const fake = fakeApi();
    render(ImagesPage, { project: shopProject(), images: new ImagesStore(fake.api), system });
    expect(screen.getByRole("button", { name: "Build image" })).toBeDisabled();
    expect(screen.getByTestId("build-why")).toHaveTextContent("Docker is not running, and the image is built with it.");
    expect(screen.getByRole("alert")).toHaveTextContent("Slipway cannot reach Docker on this computer.");

    docker = null;
    // "Start Docker" says how; pressed again, it asks Docker again.
    await user.click(screen.getByRole("button", { name: "Start Docker" }));
    await user.click(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(screen.getByRole("button", { name: "Build image" })).toBeEnabled());
    expect(screen.queryByTestId("build-why")).not.toBeInTheDocument();
  });
});

describe("Docker going down and coming back", () => {
  it("says Docker is not running once, and when it answers again lists the images with no click", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let docker: SystemStatus["docker"] = dockerDown;
    const system = new SystemStore({ systemStatus: async () => ({ docker, dockerVersion: null, keyring: null }) }, 2500);
    const stop = system.watch();
    await vi.advanceTimersByTimeAsync(0);
    const fake = fakeApi();
    let engineUp = false;
    const images = new ImagesStore({
      ...fake.api,
      imagesOverview: async () => {
        if (!engineUp) throw new SlipwayError(dockerDown);
        return fake.api.imagesOverview();
      },
    });
    render(ImagesPage, { project: shopProject(), images, system });
    await waitFor(() => expect(images.error?.kind).toBe("dockerUnavailable"));
    // The page's own failure and the header's answer are one notice.
    expect(screen.getAllByRole("alert")).toHaveLength(1);

    docker = null;
    engineUp = true;
    await vi.advanceTimersByTimeAsync(2500);
    expect(await screen.findByRole("table", { name: "Local images" })).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Build image" })).toBeEnabled();
    stop();
    vi.useRealTimers();
  });
});
