//! goose-pod-autoscaler: a Custom Pod Autoscaler plugin that scales a workload
//! on the latency its users would see.
//!
//! The pipeline, one module a step:
//!
//! - [`cpa`]: the CPA's wire types, what arrives on stdin and leaves on stdout
//!   (with `cpa::strict`, the one pass that rejects keys given twice).
//! - [`scenario`]: scenario files (YAML) turned into a request plan, and the
//!   goose transactions that send it.
//! - [`metric`]: the metric stage: its settings, the run-time parser, the CPA
//!   input and [`metric::main_with`], the entry point for compiled scenarios;
//!   the quiet goose run, goose's metrics turned into the report, its failures
//!   sorted, stdout guarded; early stop, which ends the test once every
//!   target's verdict is sure.
//! - [`report`]: the latency report, the JSON the metric stage prints and the
//!   evaluate stage reads, with its verdicts and trends.
//! - [`target`]: the targets both stages read: a request's statistic, its
//!   limit, and the figure of the report it compares.
//! - [`evaluate`]: the evaluate stage: its settings and config, the bounds,
//!   the pure scaling decision (with the measurement, fallback and
//!   failed-decay rules it uses), and the run that ties input, config, state
//!   and decision together.
//! - [`boosts`]: alert boosts, the temporary replica floors `gpa alerts`
//!   records for the evaluate stage, in a file replaced atomically.
//! - `alerts` (cargo feature `alerts`, on by default): `gpa alerts`, the
//!   Alertmanager sidecar that records those boosts and asks the CPA to
//!   evaluate at once.
//! - [`state`]: the decay state kept between evaluations, saved atomically
//!   under a bounded lock; [`leftovers`]: the temporary files an interrupted
//!   save leaves, removed by the next one.
//! - [`status`]: the evaluation status file the evaluate stage leaves for
//!   `gpa alerts`' `/metrics`.
//! - [`settings`]: flags, environment variables and aliases, resolved alike
//!   by both stages; [`setting_names`]: every setting name, in one table, and
//!   the near misses of them that are warned about or refused.
//! - [`logging`]: logs and explanations on stderr, never stdout.
//! - [`escape`]: outside values (alert labels, ...) escaped and shortened to
//!   fit one log or decision line.
//! - [`yaml`]: YAML files read and parsed, parse errors as one line with
//!   file line and column.
//! - `simulate` (cargo feature `simulate`, on by default): `gpa simulate`, the
//!   whole CPA loop on one machine around the real stage executables, as an
//!   executable specification of the CPA, scored against an oracle. The stage
//!   executables and the container image are built without it.
//!
//! The binaries (`gpa-metric`, `gpa-evaluate`, `gpa`) are thin shells over
//! these; [`cli`] holds what they do alike at their edges.

#[cfg(feature = "alerts")]
pub mod alerts;
pub mod boosts;
pub mod cli;
pub mod cpa;
pub mod escape;
pub mod evaluate;
pub mod leftovers;
pub mod logging;
pub mod metric;
pub mod report;
pub mod scenario;
pub mod setting_names;
pub mod settings;
#[cfg(feature = "simulate")]
pub mod simulate;
pub mod state;
pub mod status;
pub mod target;
pub mod yaml;
