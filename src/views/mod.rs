//! The documents users and scripts read, each a projection of a working model made at the very end: the
//! `status` document of the route graph ([`status`]), the `check` findings ([`check`]), the dashboard's state
//! ([`dashboard`]), the result of an edit or a rollout command ([`result`]). Their JSON shape is the contract
//! (README, `tests/golden/`); text renderings of the same documents live in [`crate::render`].

pub mod calls;
pub mod check;
pub mod dashboard;
pub mod result;
pub mod routes;
pub mod status;
