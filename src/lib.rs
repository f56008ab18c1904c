//! kubectl-vroute: per-version routing for Istio and Argo Rollouts.
//!
//! The library holds all behaviour; the two binaries in `src/bin/` only parse flags and map errors to exit
//! codes. Pure modules (model, edits, statistics) never do I/O; I/O modules never decide.

pub mod cli;
