//! The task API (resource server). In this first slice it serves its probes — `/healthz`
//! and `/readyz` — on the shared database; the task endpoints and token validation follow.

pub mod startup;
