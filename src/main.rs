// mimalloc: the verdict and weekly summary allocate and free many short-lived vectors; glibc
// returns large blocks to the kernel and faults them in again, mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ratingwatch::cli::memory::set_release(release_memory);
    ratingwatch::cli::main()
}

/// Returns this thread's freed memory to the kernel (every runtime thread of `serve` and
/// `web` calls it once after their resident size grew, see `cli::memory`): the calling
/// thread's mimalloc pages (`mi_collect(true)` frees its emptied pages and purges the arenas
/// now instead of on a later allocation; another thread's heap it cannot touch) and glibc's
/// free arena space, where SQLite's page caches live.
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

/// Turns transparent huge pages off for this process. mimalloc asks for them on its arenas
/// (`madvise(MADV_HUGEPAGE)`, honoured where THP is `madvise` or `always`), so the kernel
/// backs each touched 2 MiB of an arena with a whole huge page, and purging a freed 64 KiB
/// page inside one gives nothing back: an idle `serve` after its start-up sync held 48 MB,
/// 16 MB of it huge pages (README "Performance"). `PR_SET_THP_DISABLE` makes the kernel
/// ignore that advice; it is inherited by child processes.
///
/// It runs before `main` and before mimalloc starts: an `.init_array` entry with priority
/// 100 runs before the unprioritised constructors (mimalloc's among them), so no arena page
/// is ever a huge page (set in `main`, the first arena's huge pages stayed: 4 MB).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00100")]
static DISABLE_TRANSPARENT_HUGE_PAGES: extern "C" fn() = disable_transparent_huge_pages;

#[cfg(target_os = "linux")]
extern "C" fn disable_transparent_huge_pages() {
    unsafe extern "C" {
        fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
    }
    const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
    let (on, unused) = (1 as std::ffi::c_ulong, 0 as std::ffi::c_ulong);
    // SAFETY: sets one flag of this process; failure (an old kernel) leaves THP as it was.
    unsafe {
        prctl(PR_SET_THP_DISABLE, on, unused, unused, unused);
    }
}
