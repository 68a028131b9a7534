// The same mark Slipway sets when its Release button can be clicked: `scripts/bench app`
// reads it to time start-up the same way for both windows.
performance.mark("app-ready");
