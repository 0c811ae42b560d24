// mimalloc: the verdict and weekly summary allocate and free many short-lived vectors; glibc
// returns large blocks to the kernel and faults them in again, mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ratingwatch::cli::main()
}
