//! The heap that start-up and finished jobs freed, handed back to the system once idle.
//!
//! glibc keeps freed memory in its arenas (one per thread that allocated) for the next
//! allocation, and returns only what lies at an arena's top. Start-up (the window, the first
//! plan, the ledger's first page, the Docker status) frees several MB in between live
//! blocks, which an idle window would otherwise hold for its whole life; `malloc_trim`
//! walks every arena and returns those free pages. Measured on the example project, 10 s
//! after start: about 5 MB of the window process's PSS. The same once the last running job
//! (a release, a build) has ended.

use std::sync::Once;
use std::time::Duration;

/// How long after the first plan the rest of start-up (the status, History's first page,
/// the kept plan's write) has run; their garbage is then freed too.
const SETTLE: Duration = Duration::from_secs(3);

/// Called when a plan is in; the first call, once start-up has settled, returns the freed
/// heap to the system. Later calls do nothing.
pub fn after_first_plan() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| give_back_later(SETTLE));
}

/// Called when the last running job has ended: what it freed (a release's log lines, a
/// build's progress) goes back too, rather than staying with the idle window.
pub fn after_work() {
    give_back_later(Duration::ZERO);
}

/// Off the caller's thread: a trim walks every arena, a few milliseconds on a large heap.
fn give_back_later(delay: Duration) {
    let spawned = std::thread::Builder::new().name("trim-heap".to_owned()).spawn(move || {
        std::thread::sleep(delay);
        give_back_freed_heap();
    });
    if let Err(error) = spawned {
        tracing::info!(%error, "the freed heap stays with the window for now");
    }
}

/// Returns the free pages of every malloc arena to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(
    unsafe_code,
    reason = "malloc_trim has no safe wrapper; it takes a size and walks only the allocator's own free lists, under its locks"
)]
pub fn give_back_freed_heap() {
    // SAFETY: no pointer crosses; glibc serialises the trim against every other allocation.
    // The result only says whether anything was returned.
    let _ = unsafe { nix::libc::malloc_trim(0) };
}

/// Other allocators return free memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_back_freed_heap() {}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// This process's resident memory in kB, from `/proc/self/statm` (pages).
    fn resident_kb() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
        let pages: u64 = statm
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        pages * 4
    }

    #[test]
    fn freed_blocks_between_live_ones_go_back_to_the_system() {
        // 64 MB in 4 KB blocks (below the mmap threshold, so in an arena), one kept in every
        // 16: what is freed lies between live blocks, where only a trim returns it.
        let blocks: Vec<Vec<u8>> = (0..16 * 1024).map(|_| vec![1u8; 4096]).collect();
        let kept: Vec<Vec<u8>> = blocks.into_iter().step_by(16).collect();
        let before = resident_kb();
        give_back_freed_heap();
        let after = resident_kb();
        assert_eq!(kept.len(), 1024);
        assert!(
            before.saturating_sub(after) >= 32 * 1024,
            "resident {before} kB before the trim, {after} kB after"
        );
    }
}
