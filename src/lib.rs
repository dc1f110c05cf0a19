//! goose-pod-autoscaler: a Custom Pod Autoscaler plugin that scales a workload
//! on the latency its users would see.
//!
//! The pipeline, one module a step:
//!
//! - [`cpa`]: the CPA's wire types, what arrives on stdin and leaves on stdout.
//! - [`report`]: the latency report, the JSON the metric stage prints and the
//!   evaluate stage reads.
//! - [`logging`]: logs and explanations on stderr, never stdout.
//! - [`simulate`]: `gpa simulate`, the whole CPA loop on one machine around the
//!   real stage executables, as an executable specification of the CPA.
//!
//! The binaries (`gpa-metric`, `gpa-evaluate`) are thin shells over these.

pub mod cpa;
pub mod logging;
pub mod report;
pub mod simulate;
