//! copydesk binary: parse the command line, run, map errors to exit codes
//! (0 success, 1 runtime failure, 2 bad usage or configuration).

use clap::Parser as _;

/// jemalloc instead of the system allocator: the pipeline allocates and frees many small
/// buffers per story on several threads, where glibc malloc costs ~6 % more CPU per story
/// at the same peak RSS (measured; see Cargo.toml).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
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
