//! glibc malloc settings for a server that reads hostile bodies.
//!
//! glibc serves large allocations with mmap and returns them to the system on free,
//! but only up to a threshold that grows with every large block freed (up to 32 MiB):
//! after a few 8 MiB request bodies or Argon2's 19 MiB working sets, such blocks come
//! from the per-thread arenas and stay in the process, one set per arena (up to 8 per
//! core). RSS then grew by tens of MiB, differently from run to run, under the hostile
//! input table (RELIABILITY.md §2). Fixing the threshold at 1 MiB keeps every large
//! block mapped and unmapped on its own; small allocations are unaffected. Other C
//! libraries (musl) and other allocators ignore this: the `cardbridge` binary itself
//! allocates with jemalloc (`main.rs`), so this matters where the server runs on glibc
//! malloc — the test binaries, and embedders of the library.

/// Blocks of this size and above are always mmapped (and unmapped when freed).
const MMAP_THRESHOLD: i32 = 1 << 20;

/// Apply the settings (idempotent; called when the server starts).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes malloc's parameters; it is thread-safe in glibc
        // and takes no pointers.
        let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
    }
}
