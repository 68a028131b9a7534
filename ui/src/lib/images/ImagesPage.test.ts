import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { SlipwayError, type DockerEvent, type ImagesOverview } from "../ipc";
import { ProjectStore } from "../project/project.svelte";
import ImagesPage from "./ImagesPage.svelte";
import { formatBytes, ImagesStore } from "./images.svelte";

function project() {
  const store = new ProjectStore({
    openProject: async () => ({ name: "shop", path: "/p/shop", git: null }),
    recentProjects: async () => [],
    forgetRecentProject: async () => [],
    pickFolder: async () => null,
  });
  store.current = { name: "shop", path: "/p/shop", git: null };
  return store;
}

const overview: ImagesOverview = {
  repository: "127.0.0.1:5000/shop",
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
};

function fakeApi() {
  const calls: string[] = [];
  let finishPush: () => void = () => {};
  const api = {
    imagesOverview: async () => overview,
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
    retagImage: async (source: string, target: string) => {
      calls.push(`retag ${source} ${target}`);
      return null;
    },
    removeImage: async (reference: string) => {
      calls.push(`remove ${reference}`);
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
    render(ImagesPage, { project: project(), images: new ImagesStore(api) });
    const table = await screen.findByRole("table", { name: "Local images" });
    expect(within(table).getByText("127.0.0.1:5000/shop:3f2a1bc")).toBeInTheDocument();
    expect(within(table).getAllByText("2.4 MB")).toHaveLength(2);
    expect(screen.getByRole("list", { name: "Registry tags" })).toHaveTextContent("3f2a1bc");
  });

  it("pushes with a progress bar that ends at 100% and shows the digest", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    render(ImagesPage, { project: project(), images: new ImagesStore(fake.api) });
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
    render(ImagesPage, { project: project(), images: new ImagesStore(fake.api) });
    await user.click(await screen.findByRole("button", { name: "Remove 127.0.0.1:5000/shop:latest" }));
    const dialog = screen.getByRole("alertdialog", { name: "Confirm removal" });
    expect(fake.calls).not.toContain("remove 127.0.0.1:5000/shop:latest");
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("used by a container");
  });

  it("retags through a form", async () => {
    const user = userEvent.setup();
    const fake = fakeApi();
    render(ImagesPage, { project: project(), images: new ImagesStore(fake.api) });
    await user.click(await screen.findByRole("button", { name: "Retag 127.0.0.1:5000/shop:3f2a1bc" }));
    const input = screen.getByLabelText("New name");
    await user.clear(input);
    await user.type(input, "127.0.0.1:5000/shop:stable");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(fake.calls).toContain("retag 127.0.0.1:5000/shop:3f2a1bc 127.0.0.1:5000/shop:stable");
  });

  it("formats sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(3 * 1024 * 1024 * 1024)).toBe("3.00 GB");
  });
});
