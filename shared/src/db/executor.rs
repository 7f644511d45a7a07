//! The threads database work runs on. Diesel is synchronous, so its work must leave the
//! async workers; it used to go to tokio's shared blocking pool, which starts a thread per
//! waiting task and wakes one for every task: two context switches per query, and under
//! load a crowd of threads queueing for SQLite's single writer. Here a fixed set of threads
//! — as many as the pool has connections, and for SQLite no more than the cores this
//! process may run on — takes jobs from one queue. A thread that finishes a job takes the
//! next without sleeping, and a sleeping thread is woken only when no woken one is on its
//! way: a burst of requests is worked through by the threads already running.
//!
//! Results are handed back in batches too: a thread keeps the results of the jobs it ran
//! while more were queued, and hands them all over when the queue is empty (or after
//! [`MAX_HELD_RESULTS`]). Each hand-over may wake the async worker, and on a busy core a
//! woken worker takes the core from the database thread: one wake-up per batch instead of
//! one per job. A result waits at most for the jobs queued behind it, a few of them.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// A job runs, and returns how to deliver its result.
type Job = Box<dyn FnOnce() -> Delivery + Send>;
type Delivery = Box<dyn FnOnce() + Send>;

/// Results a thread holds back at most before handing them over.
const MAX_HELD_RESULTS: usize = 16;

/// Runs jobs on its own threads; they stop when the last handle is dropped.
#[derive(Debug)]
pub struct Executor {
    shared: Arc<Shared>,
    threads: usize,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Threads waiting for work.
    sleeping: usize,
    /// Wake-ups sent that no thread has taken yet.
    woken: usize,
    stopping: bool,
}

/// The job was not run to its end: the executor stopped, or the job panicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl Executor {
    /// Starts `threads` threads (at least one), named `{name}-{n}`.
    pub fn start(name: &str, threads: usize) -> Self {
        let threads = threads.max(1);
        let shared = Arc::new(Shared::default());
        for n in 0..threads {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || work(&shared));
            if let Err(error) = spawned {
                // Fewer threads still serve; none at all is caught by the first `run`.
                tracing::error!(error = %error, "could not start a database thread");
            }
        }
        Self { shared, threads }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `job` on one of the threads and waits for its result without blocking the
    /// caller's thread.
    pub async fn run<T, F>(&self, job: F) -> Result<T, Cancelled>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.submit(Box::new(move || {
            // A panic ends this job (the caller sees `Cancelled`), never the thread.
            let result = std::panic::catch_unwind(AssertUnwindSafe(job));
            Box::new(move || {
                if let Ok(result) = result {
                    let _receiver_gone = sender.send(result);
                }
            })
        }));
        receiver.await.map_err(|_| Cancelled)
    }

    fn submit(&self, job: Job) {
        let mut state = self.shared.lock();
        if state.stopping {
            return; // dropping the job drops its sender: the caller sees `Cancelled`
        }
        state.queue.push_back(job);
        if state.sleeping > state.woken {
            state.woken += 1;
            self.shared.wake.notify_one();
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock still guards a consistent queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn work(shared: &Shared) {
    let mut held: Vec<Delivery> = Vec::with_capacity(MAX_HELD_RESULTS);
    let mut state = shared.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            held.push(job());
            if held.len() >= MAX_HELD_RESULTS {
                held.drain(..).for_each(|deliver| deliver());
            }
            state = shared.lock();
            continue;
        }
        if !held.is_empty() {
            drop(state);
            held.drain(..).for_each(|deliver| deliver());
            state = shared.lock();
            continue;
        }
        if state.stopping {
            return;
        }
        state.sleeping += 1;
        state = shared
            .wake
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
        state.sleeping -= 1;
        state.woken = state.woken.saturating_sub(1);
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Queued jobs still run; then the threads end.
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn runs_jobs_on_its_own_threads_and_returns_their_results() {
        let executor = Executor::start("test-db", 2);
        let name = executor
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.is_some_and(|name| name.starts_with("test-db-")));
        let results = futures_util::future::join_all((0..50).map(|i| executor.run(move || i * 2)))
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(results, (0..50).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_panicking_job_is_cancelled_and_the_thread_goes_on() {
        let executor = Executor::start("test-db", 1);
        let panicked: Result<(), Cancelled> = executor.run(|| panic!("a bug in a job")).await;
        assert_eq!(panicked, Err(Cancelled));
        assert_eq!(executor.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn jobs_run_on_no_more_threads_than_started() {
        let executor = Executor::start("test-db", 2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..20).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            executor.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        futures_util::future::join_all(jobs).await;
        assert!(most.load(Ordering::SeqCst) <= 2);
    }
}
