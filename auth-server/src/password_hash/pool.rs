//! A fixed set of OS threads for password hashing, with a bounded queue in front of them.
//! A job that finds the queue full is refused at once ([`PoolError::Busy`]): the caller
//! answers "try again" instead of waiting behind a storm, and no more than `threads`
//! hashes — each with its 19 MiB of argon2 memory — ever run at one time. Each thread
//! keeps its own [`HashMemory`] from one job to the next, and runs at the lowest CPU
//! priority (`super::priority`).
//!
//! A job that waited in the queue longer than [`MAX_QUEUE_WAIT`] is answered `Busy` too,
//! without hashing: the hashing threads run only on spare CPU, so on a core kept busy by
//! tokens and the task API a full queue can take long to drain, and a person is better
//! told "try again" within seconds than kept waiting behind a storm.
//!
//! A job that panics is answered [`PoolError::Failed`]; its thread goes on with the next.
//! The threads end when the pool is dropped.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use super::argon::HashMemory;
use super::priority;

/// The most a sign-in or sign-up waits in the queue before it is refused.
pub const MAX_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs a job with the thread's memory, or refuses it given `None`.
type RunJob = Box<dyn FnOnce(Option<&mut HashMemory>) + Send>;

/// A queued job and when it was queued.
struct Job {
    queued_at: std::time::Instant,
    run: RunJob,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Every thread is busy and the queue is full: try again in a moment.
    #[error("every password-hashing thread is busy and the queue is full")]
    Busy,
    /// The job panicked, or the threads are gone.
    #[error("the password-hashing job failed")]
    Failed,
}

/// Cheap to clone: clones share the threads and the queue.
#[derive(Clone)]
pub struct HashingPool {
    jobs: SyncSender<Job>,
    threads: usize,
    queue: usize,
}

impl std::fmt::Debug for HashingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingPool")
            .field("threads", &self.threads)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl HashingPool {
    /// Starts `threads` threads (at least one) behind a queue of `queue` jobs (at least one).
    pub fn start(threads: usize, queue: usize) -> std::io::Result<Self> {
        Self::start_with_max_wait(threads, queue, MAX_QUEUE_WAIT)
    }

    fn start_with_max_wait(
        threads: usize,
        queue: usize,
        max_wait: std::time::Duration,
    ) -> std::io::Result<Self> {
        let (threads, queue) = (threads.max(1), queue.max(1));
        let (jobs, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || work(&receiver, max_wait))?;
        }
        Ok(Self {
            jobs,
            threads,
            queue,
        })
    }

    /// How many threads hash.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Queues `job` now, or refuses it now with [`PoolError::Busy`]; the future is its answer.
    pub fn submit<T, F>(
        &self,
        job: F,
    ) -> Result<impl Future<Output = Result<T, PoolError>> + use<T, F>, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&mut HashMemory) -> T + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            queued_at: std::time::Instant::now(),
            run: Box::new(move |memory: Option<&mut HashMemory>| {
                // The caller may have gone away (the client closed the connection).
                let _unheard = reply.send(memory.map(job).ok_or(PoolError::Busy));
            }),
        };
        self.jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => PoolError::Busy,
            TrySendError::Disconnected(_) => PoolError::Failed,
        })?;
        Ok(async move { answer.await.unwrap_or(Err(PoolError::Failed)) })
    }
}

/// One thread's life: lower its priority, then run jobs on its own memory until the pool
/// is dropped.
fn work(receiver: &Mutex<Receiver<Job>>, max_wait: std::time::Duration) {
    priority::lower_this_thread();
    let mut memory = HashMemory::default();
    loop {
        // Idle threads wait for the lock; the one holding it waits for a job.
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        // A panic drops the job's reply sender, which answers `Failed`.
        if job.queued_at.elapsed() > max_wait {
            (job.run)(None);
            continue;
        }
        let _panicked = std::panic::catch_unwind(AssertUnwindSafe(|| (job.run)(Some(&mut memory))));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    const PATIENCE: Duration = Duration::from_secs(10);

    /// Answers of a job, or a failure if it took longer than `PATIENCE`.
    async fn answered<T>(
        answer: impl Future<Output = Result<T, PoolError>>,
    ) -> Result<T, PoolError> {
        tokio::time::timeout(PATIENCE, answer)
            .await
            .expect("answered in time")
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_the_queued_jobs_still_run() {
        let pool = HashingPool::start(1, 1).unwrap();
        let (started, running) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let first = pool
            .submit(move |_| {
                started.send(()).unwrap();
                gate.recv().unwrap();
                "first"
            })
            .unwrap();
        running.recv_timeout(PATIENCE).unwrap();
        let second = pool.submit(|_| "second").expect("one place in the queue");
        assert_eq!(pool.submit(|_| "third").err(), Some(PoolError::Busy));
        assert_eq!(pool.submit(|_| "fourth").err(), Some(PoolError::Busy));

        release.send(()).unwrap();
        assert_eq!(answered(first).await, Ok("first"));
        assert_eq!(answered(second).await, Ok("second"));
        let later = pool.submit(|_| "later").expect("room again");
        assert_eq!(answered(later).await, Ok("later"));
    }

    #[tokio::test]
    async fn a_job_that_waited_too_long_is_refused_unhashed() {
        let pool = HashingPool::start_with_max_wait(1, 4, Duration::from_millis(50)).unwrap();
        let (release, gate) = mpsc::channel::<()>();
        let first = pool
            .submit(move |_| {
                gate.recv().unwrap();
                "first"
            })
            .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = ran.clone();
        let late = pool
            .submit(move |_| counted.fetch_add(1, Ordering::SeqCst))
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        release.send(()).unwrap();
        assert_eq!(answered(first).await, Ok("first"));
        assert_eq!(answered(late).await, Err(PoolError::Busy));
        assert_eq!(ran.load(Ordering::SeqCst), 0, "the late job was not run");
        let fresh = pool.submit(|_| "fresh").unwrap();
        assert_eq!(answered(fresh).await, Ok("fresh"));
    }

    #[tokio::test]
    async fn exactly_the_configured_threads_run_jobs_side_by_side() {
        let threads = 3;
        let pool = HashingPool::start(threads, 16).unwrap();
        assert_eq!(pool.threads(), threads);
        // Each job waits until `threads` jobs run at once: only enough threads get past it.
        let all_running = Arc::new(Barrier::new(threads));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut answers = Vec::new();
        for _ in 0..threads * 4 {
            let (all_running, running, most) = (all_running.clone(), running.clone(), most.clone());
            let answer = pool
                .submit(move |_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    all_running.wait();
                    running.fetch_sub(1, Ordering::SeqCst);
                    std::thread::current().name().map(str::to_owned)
                })
                .unwrap();
            answers.push(answer);
        }
        let mut names = Vec::new();
        for answer in answers {
            names.push(answered(answer).await.unwrap().unwrap());
        }
        assert_eq!(most.load(Ordering::SeqCst), threads);
        names.sort();
        names.dedup();
        assert_eq!(
            names,
            ["password-hash-0", "password-hash-1", "password-hash-2"]
        );
    }

    #[tokio::test]
    async fn results_are_the_jobs_own_and_a_panic_fails_only_its_job() {
        let pool = HashingPool::start(1, 8).unwrap();
        let stored = answered(
            pool.submit(|memory| super::super::argon::hash_with(memory, "violet-anchor-tundra-42"))
                .unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        let check = |password: &'static str| {
            let stored = stored.clone();
            pool.submit(move |memory| super::super::argon::verify_with(memory, password, &stored))
                .unwrap()
        };
        assert_eq!(answered(check("violet-anchor-tundra-42")).await, Ok(true));
        assert_eq!(answered(check("violet-anchor-tundra-43")).await, Ok(false));

        #[cfg(target_os = "linux")]
        {
            let nice = pool.submit(|_| priority::this_thread_nice()).unwrap();
            assert_eq!(answered(nice).await, Ok(Some(priority::HASHING_NICE)));
        }

        let panicking = pool
            .submit(|_| -> u8 { panic!("a job that fails") })
            .unwrap();
        assert_eq!(answered(panicking).await, Err(PoolError::Failed));
        assert_eq!(answered(check("violet-anchor-tundra-42")).await, Ok(true));
    }
}
