//! Canary analysis: one pipeline from a request to a judgement with its evidence, shared by the
//! `vroute-analysis` service ([`server`]) and `kubectl vroute analyze`.
//!
//! Pure parts: the request and its validation ([`input`], [`request`] (durations: [`crate::duration`])), the window ([`window`]),
//! the documents ([`document`]), what each failure means ([`error`]); the queries and their parsing live in
//! [`crate::metrics::canary`], the statistics in [`crate::judge`]. I/O: [`rollout`] (the cluster),
//! [`pipeline`] (Prometheus), [`coalesce`] and [`server`] (HTTP).

pub mod coalesce;
pub mod document;
pub mod error;
pub mod flagger;
pub mod input;
pub mod pipeline;
pub mod request;
pub mod rollout;
pub mod server;
pub mod window;

pub use document::{Analysis, ErrorDocument, QueryRecord};
pub use error::{AnalysisError, ErrorKind, RequestError};
pub use input::RawParams;
pub use pipeline::{Sources, analyze};
pub use request::{Period, Request};
pub use window::Window;
