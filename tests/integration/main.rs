//! Integration tests: the real binaries against a real kube-apiserver (with the real Istio and Argo Rollouts
//! CRDs) and a real Prometheus. One binary, so the suite shares a single control plane.

#[path = "../support/mod.rs"]
mod support;

mod analysis;
mod contract;
mod dashboard;
mod edit;
mod exit_codes;
mod foundation;
mod gateway;
mod gateway_edit;
mod graph;
mod live;
mod policy;
mod promote;
mod readme;
mod ship;
mod status;
