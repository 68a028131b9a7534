// The time now, moving on every `intervalMs` while the component that asked is shown: for
// running clocks and "2 min ago". Call it while a component is being set up.
export function ticking(intervalMs = 1000): { readonly now: number } {
  let now = $state(Date.now());
  $effect(() => {
    const timer = setInterval(() => (now = Date.now()), intervalMs);
    return () => clearInterval(timer);
  });
  return {
    get now() {
      return now;
    },
  };
}
