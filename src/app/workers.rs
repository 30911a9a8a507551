//! [`WorkerPool`]: the threads that run the pipeline, fed from one queue.
//!
//! Why not tokio's blocking pool: with `spawn_blocking` a story starts only when the async
//! task that hands out work is scheduled again, and on a machine whose cores are busy with
//! exactly these CPU-bound threads (and the broker) that task waits for a time slice while
//! a worker sits idle. Measured on the 2-core bench machine (20,000 stories, co-located
//! broker): the pipeline threads were busy ~52 % of the full-mode run. Here each worker
//! takes its next job from the queue the moment it finishes one, and the caller keeps the
//! queue a few stories deep ([`WorkerPool::window`]) while results are still collected in
//! consumption order (`buffered`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

/// Jobs queued per worker beyond the one it runs: enough that a worker finishing a story
/// finds the next one waiting even when the task refilling the queue is descheduled for a
/// few milliseconds (a story takes ~0.5 ms).
const LOOKAHEAD_PER_WORKER: usize = 8;

type Job = Box<dyn FnOnce() + Send>;

/// Why a job's result never came.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The pool was shut down before the job ran.
    #[error("worker pool closed")]
    Closed,
    /// The job panicked (the pipeline catches its own panics, so this is a bug).
    #[error("worker job panicked")]
    Lost,
}

/// A fixed set of named threads running submitted closures in submission order.
/// Dropping the pool lets the threads run what is already queued and exit.
#[derive(Debug)]
pub struct WorkerPool {
    queue: Sender<Job>,
    workers: usize,
}

impl WorkerPool {
    /// Starts `workers` threads (at least one).
    pub fn new(workers: usize) -> std::io::Result<Self> {
        let workers = workers.max(1);
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..workers {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("copydesk-worker-{i}"))
                .spawn(move || work(&jobs))?;
        }
        Ok(Self { queue, workers })
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.workers
    }

    /// How many jobs a caller should keep submitted at once to keep every thread busy.
    pub fn window(&self) -> usize {
        self.workers * (1 + LOOKAHEAD_PER_WORKER)
    }

    /// Queues `job`; the future resolves to its result once a worker has run it.
    pub fn run<T, F>(&self, job: F) -> impl std::future::Future<Output = Result<T, WorkerError>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let queued = self
            .queue
            .send(Box::new(move || {
                // The receiver may be gone (the caller stopped waiting): nothing to do then.
                let _ = done.send(job());
            }))
            .is_ok();
        async move {
            if !queued {
                return Err(WorkerError::Closed);
            }
            result.await.map_err(|_| WorkerError::Lost)
        }
    }
}

/// A worker thread: runs jobs until the pool is dropped.
fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking a job; a poisoned lock still guards a valid
        // receiver (no job runs under it).
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else {
            return; // the pool was dropped
        };
        // A panicking job drops its result sender (the caller sees `Lost`); the thread lives.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt as _;

    #[tokio::test]
    async fn results_come_back_in_submission_order() {
        let pool = WorkerPool::new(3).expect("threads");
        let done: Vec<usize> = futures::stream::iter(0..200usize)
            .map(|i| {
                pool.run(move || {
                    // uneven work, so jobs finish out of order
                    std::thread::sleep(std::time::Duration::from_micros((i % 7) as u64 * 50));
                    i
                })
            })
            .buffered(pool.window())
            .map(|r| r.expect("job ran"))
            .collect()
            .await;
        assert_eq!(done, (0..200).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn jobs_run_on_the_pool_threads_in_parallel() {
        let pool = WorkerPool::new(2).expect("threads");
        let names: Vec<String> = futures::future::join_all((0..8).map(|_| {
            pool.run(|| {
                std::thread::sleep(std::time::Duration::from_millis(5));
                std::thread::current().name().unwrap_or("").to_string()
            })
        }))
        .await
        .into_iter()
        .map(|r| r.expect("job ran"))
        .collect();
        assert!(names.iter().all(|n| n.starts_with("copydesk-worker-")));
        assert!(names.iter().any(|n| n == "copydesk-worker-0"));
        assert!(names.iter().any(|n| n == "copydesk-worker-1"));
    }

    #[tokio::test]
    async fn a_panicking_job_is_reported_and_the_pool_keeps_working() {
        let pool = WorkerPool::new(1).expect("thread");
        let lost = pool.run(|| -> usize { panic!("boom") }).await;
        assert!(matches!(lost, Err(WorkerError::Lost)), "{lost:?}");
        assert_eq!(pool.run(|| 7).await.expect("pool alive"), 7);
    }
}
