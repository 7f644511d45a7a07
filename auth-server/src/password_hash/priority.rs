//! The hashing threads run at the lowest CPU priority (nice 19). Argon2 is pure CPU for
//! tens of milliseconds; at normal priority a storm of sign-ins would take its share of a
//! busy core from the token endpoint, the task API and the database work, and slow every
//! one of them. At nice 19 the scheduler gives a hashing thread about 1.5% of a core that
//! a normal-priority thread also wants (weight 15 against 1024), and the whole core when
//! nothing else runs: requests that need no hash always go first, and a hash still
//! finishes as soon as the core has time to spare. The queue in front of the threads
//! (`super::pool`) bounds how long a sign-in may wait for that.
//!
//! The same holds against other processes the scheduler weighs the hashing threads with:
//! on a host (or in a cgroup) shared with CPU-bound work at normal priority, sign-ins wait
//! for that work's idle time too, and the queue fills sooner. Measured here, while another
//! process kept both cores busy, a storm of sign-ins got about 4 hashes a second instead
//! of some 40. In a container of its own the threads compete with this server's threads
//! alone, as intended.
//!
//! On Linux the nice value belongs to each thread, so `setpriority(PRIO_PROCESS, tid)`
//! lowers this thread alone (setpriority(2), "BUGS"); any process may lower its own
//! priority. Elsewhere the threads keep the normal priority.

/// The nice value of the hashing threads: the lowest priority there is.
pub const HASHING_NICE: i32 = 19;

/// Lowers the calling thread to [`HASHING_NICE`]; a failure is logged and otherwise
/// ignored (the thread hashes all the same, at normal priority).
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(thread), HASHING_NICE) {
            tracing::warn!(%error, "could not lower the priority of a password-hashing thread");
        }
    }
}

/// The calling thread's nice value, where the system tells it per thread.
#[cfg(target_os = "linux")]
pub fn this_thread_nice() -> Option<i32> {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn only_the_calling_thread_is_lowered() {
        let before = std::thread::spawn(this_thread_nice).join().unwrap();
        let lowered = std::thread::spawn(|| {
            lower_this_thread();
            this_thread_nice()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, Some(HASHING_NICE));
        assert_eq!(
            std::thread::spawn(this_thread_nice).join().unwrap(),
            before,
            "the rest of the process keeps its priority"
        );
    }
}
