//! Operations: what each command does, as functions of plain option structs (no clap), between the command
//! line and the pure core. Each reads through [`crate::cluster`], decides with the core (the route graph, the
//! edits, the rollout planners) and writes back, returning typed results that [`crate::render`] turns into text.
//! The CLI is flags -> options -> operation -> render; a dashboard or a test can call the same operations.

pub mod edit;
pub mod graph;
pub mod rollout;
pub mod status;
pub mod wait;
