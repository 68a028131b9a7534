import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

// The start-up timeline `scripts/bench app` prints: the bundle ran, and the window was drawn.
performance.mark("script");
const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

const app = mount(App, { target });
performance.mark("mounted");
export default app;
