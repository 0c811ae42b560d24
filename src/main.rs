// mimalloc: the verdict and weekly summary allocate and free many short-lived vectors; glibc
// returns large blocks to the kernel and faults them in again, mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ratingwatch::cli::memory::set_release(release_memory);
    ratingwatch::cli::main()
}

/// Returns freed memory to the kernel (`serve` and `web` call it after their resident size
/// grew): mimalloc's freed pages (`mi_collect(true)` purges every arena now instead of on a
/// later allocation) and glibc's free arena space, where SQLite's page caches live.
fn release_memory() {
    unsafe extern "C" {
        fn mi_collect(force: bool);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: both take plain values and only return pages no allocation is using.
    unsafe {
        mi_collect(true);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        malloc_trim(0);
    }
}
