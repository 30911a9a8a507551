//! copydesk binary: parse the command line, run, map errors to exit codes
//! (0 success, 1 runtime failure, 2 bad usage or configuration).

use clap::Parser as _;

/// jemalloc instead of the system allocator: the pipeline allocates and frees many small
/// buffers per story on several threads, where glibc malloc costs ~6 % more CPU per story
/// at the same peak RSS (measured; see Cargo.toml).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// librdkafka allocates with the C allocator, glibc malloc here, and its largest blocks are
/// fetch responses (up to a MiB each), freed when librdkafka drops its last reference to
/// their records. When glibc frees an mmapped block above its mmap threshold it raises the
/// threshold to that block's size, so after the first few responses the later ones came
/// from an arena instead, whose free space it rarely gives back:
/// one arena grew to 25 MB during a 100,000-story backlog and not during a 10,000-story
/// one. A fixed threshold (128 KiB, the usual starting value) keeps each large block its
/// own mapping, returned on free. Bench, three runs each: peak RSS after 10,000 / 100,000
/// stories 86-88 / 116 MB (+30-36 %) before, 88-89 / 103-105 MB (+16-18 %) after, and the
/// pass-through daemon 73 -> 38-44 MB. Three paired 30,000-story runs: daemon CPU per story
/// 557-613 µs without, 503-538 µs with (pass-through 42-45 and 41-53 µs). Routing C malloc
/// into jemalloc instead (`unprefixed_malloc_on_supported_platforms`) gave 94-95 / 110-113
/// MB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn pin_c_mmap_threshold() {
    // SAFETY: mallopt only changes glibc malloc's parameters, and runs before any other
    // thread exists.
    let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
    if set != 1 {
        eprintln!("copydesk: warning: could not fix the C allocator's mmap threshold");
    }
}

fn main() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pin_c_mmap_threshold();
    let cli = copydesk::cli::Cli::parse();
    // At least two workers: the rebalance callback may wait on the consumer's worker while
    // the other keeps delivering.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("copydesk: cannot start the async runtime: {err}");
            std::process::exit(1);
        }
    };
    if let Err(err) = runtime.block_on(copydesk::cli::execute(cli)) {
        eprintln!("copydesk: {err}");
        std::process::exit(err.exit_code());
    }
}
