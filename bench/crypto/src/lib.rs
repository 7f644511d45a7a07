//! Only the benchmark in `benches/jwt.rs`.
