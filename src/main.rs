//! copydesk binary: parse the command line, run, map errors to exit codes
//! (0 success, 1 runtime failure, 2 bad usage or configuration).

use clap::Parser as _;

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
